using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Pipeline.Benchmarks.Load;
using Pipeline.Local.Emulator;

namespace Pipeline.Benchmarks;

/// <summary>
/// <c>importday FILE [shards]</c>: the whole path of a backfilled day, as an operator runs it, each step its own
/// process against one throw-away Azurite: <c>serve</c> (processing) running while <c>import FILE</c> lands the
/// file through ingest; processing drained (queue empty and every accepted event in the event store); then
/// <c>sweep</c> (the day compacted, as the sweeper does) and <c>rollup</c>. Prints each step's wall time and peak
/// RSS and the total. FILE is made by <c>import-sample</c> (docs/performance.md).
/// </summary>
internal static partial class ImportDayProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length is < 1 or > 2)
        {
            Console.Error.WriteLine("usage: importday FILE [shards (16)]");
            return 1;
        }
        var file = Path.GetFullPath(args[0]);
        var shards = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;
        Console.WriteLine($"importday: {file} ({new FileInfo(file).Length / 1048576.0:N1} MiB), {shards} shards; {Environment.ProcessorCount} processors, load average {ProcessStats.LoadAverage()}");

        await using var azurite = await AzuriteRunner.StartAsync(new AzuriteStartOptions(), CancellationToken.None);
        var now = DateTimeOffset.UtcNow;
        var environment = new Dictionary<string, string>
        {
            ["PipelineStorage"] = azurite.ConnectionString,
            ["Pipeline__PseudonymisationKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)),
            ["Pipeline__ReportingTimeZone"] = "Asia/Shanghai",
            ["Pipeline__EventStoreShards"] = shards.ToString(CultureInfo.InvariantCulture),
            // Daily, an hour before now (UTC): the schedules never fire during the run; the steps below do their work.
            ["RollupSchedule"] = string.Create(CultureInfo.InvariantCulture, $"0 {now.AddHours(-1).Minute} {now.AddHours(-1).Hour} * * *"),
            ["SweepSchedule"] = string.Create(CultureInfo.InvariantCulture, $"0 {now.AddHours(-1).Minute} {now.AddHours(-1).Hour} * * *"),
            ["DOTNET_gcServer"] = "0",
            ["Logging__LogLevel__Pipeline"] = "Information",
        };
        await PipelineProcess.RunAsync(environment, ["keys", "create", "--source", "backfill", "--mini-programs", "*"], TimeSpan.FromMinutes(2), CancellationToken.None);

        var total = Stopwatch.StartNew();
        var serveLog = Path.Combine(Path.GetTempPath(), $"pipeline-importday-serve-{Environment.ProcessId}.log");
        using var serve = PipelineProcess.StartServe(environment, serveLog);
        await serve.WaitUntilListeningAsync(TimeSpan.FromMinutes(2), CancellationToken.None);
        Console.WriteLine($"serve (processing): pid {serve.Id}, log {serveLog}");

        // Import, with processing running beside it as it would in production.
        var step = Stopwatch.StartNew();
        var imported = await PipelineProcess.RunAsync(environment, ["import", file, "--source", "backfill"], TimeSpan.FromMinutes(60), CancellationToken.None);
        var accepted = Accepted().Match(imported) is { Success: true } a ? long.Parse(a.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture) : throw new InvalidOperationException("import printed no accepted count: " + imported);
        var importSeconds = step.Elapsed.TotalSeconds;
        Console.WriteLine($"import: {accepted:N0} events accepted in {importSeconds:0.0} s ({accepted / importSeconds:N0} events/s); load average {ProcessStats.LoadAverage()}");

        // Drained: the processing queue empty and every accepted event in the event store.
        var store = new StoreProbe(azurite.ConnectionString);
        long stored = 0;
        while (true)
        {
            var (depth, _) = await store.ProcessingBacklogAsync(CancellationToken.None);
            if (depth == 0 && (stored = (await store.StoredEventsByDayAsync(CancellationToken.None)).Values.Sum()) >= accepted) break;
            if (serve.HasExited) throw new InvalidOperationException($"serve exited (see {serveLog}).");
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        var processedSeconds = total.Elapsed.TotalSeconds;
        var serveRss = ProcessStats.PeakRssKb(serve.Id) / 1024.0;
        Console.WriteLine($"processed: {stored:N0} events stored {processedSeconds:0.0} s after the import started ({stored / processedSeconds:N0} events/s, import and processing together; {processedSeconds - importSeconds:0.0} s after the import ended); serve peak RSS {serveRss:N0} MiB, CPU {ProcessStats.CpuSeconds(serve.Id):0.0} s");
        if (stored != accepted) throw new InvalidOperationException($"{stored:N0} events stored, {accepted:N0} accepted.");
        serve.Dispose();

        step.Restart();
        var swept = await PipelineProcess.RunAsync(environment, ["sweep"], TimeSpan.FromMinutes(60), CancellationToken.None);
        Console.WriteLine($"sweep: {step.Elapsed.TotalSeconds:0.0} s ({PipelineProcess.LineStartingWith(swept, "event store:")}), peak RSS {PipelineProcess.PeakRssMiB(swept)} MiB");

        step.Restart();
        var rolled = await PipelineProcess.RunAsync(environment, ["rollup"], TimeSpan.FromMinutes(60), CancellationToken.None);
        Console.WriteLine($"rollup: {step.Elapsed.TotalSeconds:0.0} s ({PipelineProcess.LineStartingWith(rolled, "rolled up")}), peak RSS {PipelineProcess.PeakRssMiB(rolled)} MiB");
        Console.WriteLine($"in all: {total.Elapsed.TotalSeconds:0.0} s from the import's start to the day's rows; load average {ProcessStats.LoadAverage()}");
        return 0;
    }

    [GeneratedRegex(@"accepted\s+([\d,]+)")]
    private static partial Regex Accepted();
}
