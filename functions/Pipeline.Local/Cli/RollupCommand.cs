using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Rollup;
using Pipeline.Local.Hosting;

namespace Pipeline.Local.Cli;

internal static class RollupCommand
{
    public static Command Create()
    {
        var from = DateOptions.Create("--from", "First reporting day to roll up", required: false);
        var to = DateOptions.Create("--to", "Last reporting day to roll up", required: false);
        var command = new Command("rollup", "Roll up reporting days now. With --from/--to, re-roll that range (and the later days that depend on it); without, roll every dirty day and every day through yesterday, as the schedule does.")
        {
            from, to,
        };
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            var first = parse.GetValue(from);
            var last = parse.GetValue(to);
            if (first.HasValue != last.HasValue) throw new CliException("give both --from and --to, or neither.");
            if (first > last) throw new CliException($"--from {first:yyyy-MM-dd} is after --to {last:yyyy-MM-dd}.");
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var services = await LocalServices.StartAsync(environment.Configuration, ct);
            var runner = services.GetRequiredService<RollupRunner>();
            var report = first is { } f && last is { } l
                ? await runner.RunRangeAsync(f, l, ct)
                : await runner.RunDueAsync(ct);
            Console.WriteLine(report);
            return 0;
        }));
        return command;
    }
}
