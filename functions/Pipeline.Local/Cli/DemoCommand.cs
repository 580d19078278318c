using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Core;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using Pipeline.Core.Rollup;
using Pipeline.Core.Time;
using Pipeline.Local.Demo;
using Pipeline.Local.Hosting;
using Pipeline.Local.Simulation;

namespace Pipeline.Local.Cli;

internal static class DemoCommand
{
    public static Command Create()
    {
        var days = new Option<int>("--days")
        {
            Description = $"Days of simulated activity, replayed day by day (1 to {SimulationOptions.MaxReplayedDays}; 31 or more shows 30-day retention).",
            DefaultValueFactory = _ => 35,
        };
        var users = new Option<int>("--users") { Description = "Simulated users.", DefaultValueFactory = _ => 500 };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 42 };
        var output = new Option<string?>("--out") { Description = "Folder for the CSV exports (default artifacts/demo at the repo root)." };
        var noServe = new Option<bool>("--no-serve") { Description = "End after the scorecard and the exports, instead of serving the dashboard until Ctrl+C." };
        var urls = new Option<string>("--urls") { Description = "Where the demo's pipeline and dashboard listen (default a free port on 127.0.0.1).", DefaultValueFactory = _ => "http://127.0.0.1:0" };
        var command = new Command("demo", "Start a fresh Azurite and the pipeline, replay five simulated weeks through the HTTP endpoint, process it, roll it up, print a scorecard, write the CSV exports, then serve the dashboard until Ctrl+C (--no-serve: stop there).")
        {
            days, users, seed, output, noServe, urls,
        };
        command.SetAction((parse, ct) => CliRun.GuardAsync(() => RunAsync(
            new SimulationOptions { Days = parse.GetValue(days), Users = parse.GetValue(users), Seed = parse.GetValue(seed) },
            parse.GetValue(output), !parse.GetValue(noServe), parse.GetValue(urls)!, ct)));
        return command;
    }

    private static async Task<int> RunAsync(SimulationOptions simulation, string? output, bool serve, string urls, CancellationToken ct)
    {
        if (simulation.Days is < 1 or > SimulationOptions.MaxReplayedDays) throw new CliException($"--days must be 1 to {SimulationOptions.MaxReplayedDays}.");
        if (simulation.Users < 1) throw new CliException("--users must be at least 1.");
        var clock = Stopwatch.StartNew();
        Step("Starting storage");
        await using var environment = await LocalEnvironment.StartAsync(freshStorage: true, ct);
        Console.WriteLine($"   {environment.StorageDescription}");

        Step("Starting the pipeline (ingest endpoint, queue listeners, rollup)");
        // The history is replayed on a clock moved to each simulated day's send time (see ReplayClock).
        var replay = new ReplayClock();
        simulation.TimeProvider = replay;
        simulation.AdvanceClockTo = replay.MoveTo;
        await using var app = LocalPipelineHost.Build(environment.Configuration, urls, background: true, LogLevel.Warning, replay);
        await LocalPipelineHost.StartAsync(app, ct);
        var address = LocalPipelineHost.ListeningAddress(app);
        Console.WriteLine($"   listening on {address}");

        Step("Issuing an ingest key for source 'demo-sdk' (all mini-programs)");
        var key = await KeysCommand.CreateKeyAsync(app.Services, KeysCommand.ParseSource("demo-sdk", "*"), ct);

        Step($"Simulating {simulation.Days} days of {simulation.Users} users through POST {address}/api/v1/events, each day sent just after it ends");
        simulation.EndTime = DateTimeOffset.UtcNow;
        var report = await SimulateCommand.RunAsync(new Uri(new Uri(address), "/api/v1/events"), key, simulation, ct);
        replay.Reset();
        Console.WriteLine(Indent(report.Describe()));

        Step("Waiting for processing to finish");
        var workers = app.Services.GetServices<IHostedService>().OfType<QueueWorkers>().Single();
        await workers.WaitUntilIdleAsync(TimeSpan.FromMinutes(5), ct);

        Step("Rolling up every day with events");
        var rollup = await app.Services.GetRequiredService<RollupRunner>().RunDueAsync(ct); // the host's own listeners work the run
        Console.WriteLine($"   {rollup}");

        var options = app.Services.GetRequiredService<PipelineOptions>();
        var calendar = app.Services.GetRequiredService<ReportingCalendar>();
        var metrics = app.Services.GetRequiredService<IMetricsStore>();
        var exports = app.Services.GetRequiredService<IExportStore>();
        var yesterday = calendar.DayOf(app.Services.GetRequiredService<TimeProvider>().GetUtcNow()).AddDays(-1);
        var rows = await metrics.ReadDayAsync(yesterday, ct);
        Console.WriteLine();
        Console.WriteLine(Scorecard.Render(yesterday, options.ReportingTimeZone, rows));

        Step("Writing the CSV exports");
        var folder = Path.GetFullPath(output ?? Path.Combine(LocalEnvironment.RepoRoot() ?? Directory.GetCurrentDirectory(), "artifacts", "demo"));
        Directory.CreateDirectory(Path.Combine(folder, "exports", "daily"));
        foreach (var day in rollup.DaysRolled)
        {
            var csv = await exports.ReadDailyAsync(day, ct) ?? throw new CliException($"the export of {day:yyyy-MM-dd} is missing after the rollup.");
            var path = Path.Combine(folder, "exports", "daily", $"{day:yyyy-MM-dd}.csv");
            await File.WriteAllBytesAsync(path, csv, ct);
            var note = day == yesterday ? $" ({rows.Count} rows, the scorecard's day)" : "";
            Console.WriteLine($"   {exports.DescribeDaily(day)} -> {path}{note}");
        }

        var exact = report.MatchesExpectations;
        Console.WriteLine();
        Console.WriteLine($"Done in {clock.Elapsed.TotalSeconds:0.0} s. {(exact ? "Every response matched what the simulator expected." : "Some responses did not match the simulator's expectations: see above.")}");
        if (serve) await ServeDashboardAsync(app, environment, address, ct);
        return exact ? 0 : 1;
    }

    /// <summary>
    /// Keeps the demo's pipeline running and prints where its dashboard is, with a platform read key made as
    /// <c>keys create --read --name demo-analyst --mini-programs '*'</c> makes it. The link carries the key in
    /// the fragment (#key=…), which the browser never sends to a server or puts in a request log.
    /// </summary>
    private static async Task ServeDashboardAsync(Microsoft.AspNetCore.Builder.WebApplication app, LocalEnvironment environment, string address, CancellationToken ct)
    {
        var reader = await KeysCommand.CreateKeyAsync(app.Services, KeysCommand.ParseSource("demo-analyst", "*"), ct, ApiKeyKind.Read);
        Console.WriteLine();
        Console.WriteLine($"Read key (reader 'demo-analyst', all mini-programs): {reader}");
        Console.WriteLine($"Other verbs on this demo's storage: PipelineStorage='{environment.Configuration["PipelineStorage"]}' dotnet run --project functions/Pipeline.Local -- keys create --read --name dev --mini-programs ID");
        Console.WriteLine($"Dashboard: {address}/dashboard/#key={Uri.EscapeDataString(reader)}");
        Console.WriteLine("Serving the dashboard and the API until Ctrl+C.");
        // The web host's console lifetime takes SIGINT and SIGTERM (Ctrl+C, a service manager) and stops the
        // host; that ends the demo as well as the command line's own cancellation does.
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, lifetime.ApplicationStopping);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("Stopped.");
        }
    }

    private static void Step(string text) => Console.WriteLine($"== {text}");

    private static string Indent(string text) => string.Join(Environment.NewLine, text.Split('\n').Select(l => "   " + l.TrimEnd('\r')));
}
