using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Local.Hosting;
using Pipeline.Storage.Queues;

namespace Pipeline.Local.Cli;

/// <summary><c>poison list</c> and <c>poison requeue</c>: the operator's handling of messages that failed five deliveries.</summary>
internal static class PoisonCommand
{
    public static Command Create()
    {
        var command = new Command("poison", "Inspect the poison queues and move messages back once their cause is fixed.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Requeue());
        return command;
    }

    private static Option<string?> QueueOption(bool required) => new("--queue")
    {
        Description = "processing, inbound, rollup-shards or rollup-days" + (required ? "." : " (default: all)."),
        Required = required,
    };

    private static Command List()
    {
        var queue = QueueOption(required: false);
        var command = new Command("list", "Show how many messages each poison queue holds, and the oldest 32 with the reason they failed.") { queue };
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            var names = Resolve(parse.GetValue(queue));
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var services = await LocalServices.StartAsync(environment.Configuration, ct);
            var poison = services.GetRequiredService<PoisonQueues>();
            foreach (var name in names)
            {
                var count = await poison.CountAsync(name, ct);
                Console.WriteLine($"{name}-poison: {count} message(s)");
                foreach (var m in await poison.PeekAsync(name, ct))
                {
                    var inserted = m.InsertedOn?.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "?";
                    Console.WriteLine($"  {inserted}  {m.Body}");
                    Console.WriteLine($"    reason: {m.Reason ?? "not recorded here (in Azure, see the function's log for the message)"}");
                }
            }
            return 0;
        }));
        return command;
    }

    private static Command Requeue()
    {
        var queue = QueueOption(required: true);
        var max = new Option<int>("--max") { Description = "Move at most this many messages.", DefaultValueFactory = _ => 1000 };
        var command = new Command("requeue", "Move poison messages back to their queue (safe: processing is idempotent and de-duplicates; a rollup shard resumes after its last recorded day, a day already finalised is skipped).") { queue, max };
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            var name = Resolve(parse.GetValue(queue)).Single();
            var limit = parse.GetValue(max);
            if (limit < 1) throw new CliException("--max must be at least 1.");
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var services = await LocalServices.StartAsync(environment.Configuration, ct);
            var moved = await services.GetRequiredService<PoisonQueues>().RequeueAsync(name, limit, ct);
            Console.WriteLine($"Moved {moved} message(s) from {name}-poison back to {name}.");
            return 0;
        }));
        return command;
    }

    private static IReadOnlyList<string> Resolve(string? queue)
    {
        if (queue is null) return [.. PoisonQueues.Queues.Values];
        return PoisonQueues.Queues.TryGetValue(queue, out var name)
            ? [name]
            : throw new CliException($"--queue '{queue}' is not a pipeline queue; use processing, inbound, rollup-shards or rollup-days.");
    }
}
