using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Hosting.Entries;
using Pipeline.Local.Hosting;

namespace Pipeline.Local.Cli;

/// <summary>
/// <c>sweep</c>: the sweeper's work now, as its schedule does it (<c>SweepSchedule</c>): landing batches whose claim
/// check was lost sent to processing again, then the event store's dirty days before today compacted. An operator
/// runs it after a backfill (<c>import</c>, then processing) so that the rollup that follows reads one file per
/// (day, shard) instead of every batch segment; the figures in docs/performance.md time it apart this way.
/// </summary>
internal static class SweepCommand
{
    public static Command Create()
    {
        var command = new Command("sweep", "Run the sweeper now, as its schedule does: send landing batches whose claim check was lost to processing again, then compact the event store's dirty days before today (and finish the days a rollup folded), so the next rollup reads one file per (day, shard).");
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var services = await LocalServices.StartAsync(environment.Configuration, ct);
            return await RunAsync(services, Console.Out, ct);
        }));
        return command;
    }

    internal static async Task<int> RunAsync(IServiceProvider services, TextWriter output, CancellationToken ct)
    {
        // The same entry the sweeper's schedule runs (SweepScheduler here, the SweepLanding trigger in Azure).
        var (landing, compaction) = await services.GetRequiredService<SweepEntry>().RunAsync(ct);
        output.WriteLine($"landing sweep: {landing}");
        output.WriteLine($"event store: {compaction}");
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        output.WriteLine($"peak RSS of this process: {self.PeakWorkingSet64 / (1024 * 1024):N0} MiB");
        return 0;
    }
}
