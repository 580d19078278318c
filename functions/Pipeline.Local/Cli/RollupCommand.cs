using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Local.Hosting;

namespace Pipeline.Local.Cli;

internal static class RollupCommand
{
    public static Command Create()
    {
        var from = DateOptions.Create("--from", "First reporting day to roll up", required: false);
        var to = DateOptions.Create("--to", "Last reporting day to roll up", required: false);
        var noWait = new Option<bool>("--no-wait") { Description = "Plan the run, put its shard messages on the queue and return at once (a serve, the Functions app or another rollup does the work)." };
        var status = new Option<bool>("--status") { Description = "Show the run in flight (shards done, days finalised) and the latest runs, and change nothing." };
        var command = new Command("rollup", "Roll up reporting days now, fanned out per user shard on the rollup queues. With --from/--to, re-roll that range (and the later days that depend on it); without, roll every dirty day and every day through yesterday, as the schedule does. Waits for the run while working its queues itself, with a progress line.")
        {
            from, to, noWait, status,
        };
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            var first = parse.GetValue(from);
            var last = parse.GetValue(to);
            if (first.HasValue != last.HasValue) throw new CliException("give both --from and --to, or neither.");
            if (first > last) throw new CliException($"--from {first:yyyy-MM-dd} is after --to {last:yyyy-MM-dd}.");
            if (parse.GetValue(status) && (first.HasValue || parse.GetValue(noWait))) throw new CliException("--status changes nothing: give it alone.");
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var services = await LocalServices.StartAsync(environment.Configuration, ct);
            if (parse.GetValue(status)) return await PrintStatusAsync(services, ct);
            return await RunAsync(services, first, last, parse.GetValue(noWait), ct);
        }));
        return command;
    }

    private static async Task<int> RunAsync(IServiceProvider services, DateOnly? from, DateOnly? to, bool noWait, CancellationToken ct)
    {
        var planner = services.GetRequiredService<RollupPlanner>();
        var runner = services.GetRequiredService<RollupRunner>();
        var stallAfter = services.GetRequiredService<RollupOptions>().StallAfter;
        Task<RollupPlan> Plan() => from is { } f && to is { } t ? planner.PlanRangeAsync(f, t, ct) : planner.PlanDueAsync("on-demand", ct);

        var plan = await Plan();
        if (noWait)
        {
            Console.WriteLine(Describe(plan));
            return 0;
        }

        // Work the rollup queues while waiting, as serve does: alone, or beside other processes.
        return await services.WhileWorkingAsync(async _ =>
        {
            var started = DateTimeOffset.UtcNow;
            // A run in flight (scheduled, or another operator's) is helped to the end first; then this request is planned again.
            while (plan.Outcome is PlanOutcome.InFlight or PlanOutcome.Resumed && plan.Run is { } busy)
            {
                Console.Error.WriteLine(Describe(plan));
                try { await runner.WaitAsync(busy, new ProgressLine(), ct, stallAfter); }
                catch (RollupStalledException stalled) { throw new CliException(stalled.Message + " Resume it with rollup once the cause is fixed."); }
                Console.Error.WriteLine();
                if (plan.Outcome == PlanOutcome.Resumed) break;
                plan = await Plan();
            }
            if (plan.Outcome == PlanOutcome.Started && plan.Run is { } run)
            {
                Console.Error.WriteLine(Describe(plan));
                RollupProgress final;
                try
                {
                    final = await runner.WaitAsync(run, new ProgressLine(), ct, stallAfter);
                }
                catch (RollupStalledException)
                {
                    // Resume once (lost messages are sent again); a second stall is a failing shard or day.
                    Console.Error.WriteLine();
                    Console.Error.WriteLine(Describe(await Plan()));
                    try { final = await runner.WaitAsync(run, new ProgressLine(), ct, stallAfter); }
                    catch (RollupStalledException again) { throw new CliException(again.Message); }
                }
                Console.Error.WriteLine();
                Console.WriteLine(RollupReport.Of(plan, final, DateTimeOffset.UtcNow - started));
                using var self = System.Diagnostics.Process.GetCurrentProcess();
                Console.WriteLine($"peak RSS of this process: {self.PeakWorkingSet64 / (1024 * 1024):N0} MiB");
            }
            else if (plan.Outcome == PlanOutcome.Nothing) Console.WriteLine("nothing to roll up");
            return 0;
        }, ct);
    }

    private static string Describe(RollupPlan plan) => plan switch
    {
        { Outcome: PlanOutcome.Nothing } => "nothing to roll up",
        { Outcome: PlanOutcome.Started, Run: { } r } => $"run {r.RunId} started: {r.From:yyyy-MM-dd}..{r.To:yyyy-MM-dd} ({r.DayCount} day(s)) over {r.Shards} shards",
        { Outcome: PlanOutcome.InFlight, Run: { } r } => $"run {r.RunId} ({r.From:yyyy-MM-dd}..{r.To:yyyy-MM-dd}, {r.Trigger}) is in flight: waiting for it before starting this request",
        { Outcome: PlanOutcome.Resumed, Run: { } r } => $"run {r.RunId} ({r.From:yyyy-MM-dd}..{r.To:yyyy-MM-dd}) had stalled: its unfinished shards were put on the queue again",
        _ => plan.Outcome.ToString(),
    };

    private static async Task<int> PrintStatusAsync(IServiceProvider services, CancellationToken ct)
    {
        var runs = services.GetRequiredService<IRollupRunStore>();
        var active = await runs.GetActiveAsync(ct);
        if (active is null) Console.WriteLine("no run in flight");
        else
        {
            var p = await runs.GetProgressAsync(active, ct);
            Console.WriteLine($"in flight: {p}");
            Console.WriteLine($"  last progress {p.LastActivity:u}; shards not finished: {string.Join(", ", Enumerable.Range(0, active.Shards).Where(s => !(p.ShardDone[s] >= active.To)).Select(s => $"{s} (through {p.ShardDone[s]?.ToString("yyyy-MM-dd") ?? "none"})"))}");
        }
        Console.WriteLine("latest runs:");
        foreach (var run in await runs.ListRecentAsync(10, ct))
            Console.WriteLine("  " + await runs.GetProgressAsync(run, ct));
        return 0;
    }

    /// <summary>One line on stderr, rewritten in place: shards done, days finalised, events per second.</summary>
    private sealed class ProgressLine : IProgress<RollupProgress>
    {
        private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
        private DateTimeOffset _last;

        public void Report(RollupProgress value)
        {
            var now = DateTimeOffset.UtcNow;
            if (now - _last < TimeSpan.FromSeconds(1) && value.Completed is null) return;
            _last = now;
            var seconds = Math.Max(0.001, (now - _started).TotalSeconds);
            Console.Error.Write($"\r  shards {value.ShardsFinished}/{value.Run.Shards} done ({value.ShardDaysDone:N0}/{(long)value.Run.Shards * value.Run.DayCount:N0} shard-days), " +
                $"days {value.Finalised.Count}/{value.Run.DayCount} finalised, {value.EventsFinalised:N0} events ({value.EventsFinalised / seconds:N0}/s)   ");
        }
    }
}
