using System.Globalization;
using System.IO.Compression;
using System.Text.Encodings.Web;
using System.Text.Json;
using Pipeline.Core.Time;

namespace Pipeline.Benchmarks;

/// <summary>
/// <c>import-sample FILE [events] [days] [mini-programs]</c>: writes an NDJSON file of valid wire-format events from the
/// simulator (<see cref="BenchData.Options"/>: every fault injection off), spread over the
/// <c>days</c> reporting days before today (Asia/Shanghai), for measuring the <c>import</c> verb.
/// Gzip when FILE ends with <c>.gz</c>. Deterministic for a given day of generation.
/// </summary>
internal static class ImportSample
{
    public static int Run(string[] args)
    {
        if (args.Length is < 1 or > 4)
        {
            Console.Error.WriteLine("usage: import-sample FILE [events (100000)] [days (60)] [mini-programs (40)]");
            return 1;
        }
        var path = args[0];
        var count = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        var days = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 60;
        var programs = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 40;

        var calendar = new ReportingCalendar("Asia/Shanghai");
        var end = calendar.StartOf(calendar.DayOf(DateTimeOffset.UtcNow)); // today's start: every event is history
        // About 13 events per active user and day; generate enough, then keep `count` spread evenly over the days.
        var users = (int)Math.Ceiling(count / (days * 13.0) * 1.6) + 10;
        var events = TrafficGenerator(users, days, programs, end);
        while (events.Count < count)
        {
            users *= 2;
            events = TrafficGenerator(users, days, programs, end);
        }

        var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using var file = File.Create(path);
        using Stream output = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Optimal) : file;
        using var buffered = new BufferedStream(output, 1 << 16);
        var written = 0;
        for (var i = 0; i < events.Count && written < count; i++)
        {
            // Keep event i when it moves the running share of `count` to the next whole number.
            if ((long)(i + 1) * count / events.Count == (long)i * count / events.Count) continue;
            using (var writer = new Utf8JsonWriter(buffered, options)) events[i].WriteTo(writer, events[i].Time);
            buffered.WriteByte((byte)'\n');
            written++;
        }
        Console.Error.WriteLine($"Wrote {written:N0} events on the {days} days before {calendar.DayOf(end):yyyy-MM-dd} ({users:N0} simulated users) to {Path.GetFullPath(path)}.");
        return 0;
    }

    /// <summary>The simulator plans at most 29 days at once: older history is planned in earlier windows, each with its own seed (so its own event ids).</summary>
    private static List<Pipeline.Local.Simulation.SimulatedEvent> TrafficGenerator(int users, int days, int programs, DateTimeOffset end)
    {
        const int Window = 29;
        var events = new List<Pipeline.Local.Simulation.SimulatedEvent>();
        for (var (k, left) = (0, days); left > 0; k++, left -= Window)
        {
            var options = BenchData.Options(users, seed: 7 + k, Math.Min(Window, left), end.AddDays(-Window * k));
            options.MiniPrograms = programs;
            var plan = Pipeline.Local.Simulation.TrafficGenerator.Generate(options);
            events.AddRange(plan.Requests
                .Where(r => r.Kind == Pipeline.Local.Simulation.PlannedRequestKind.Batch)
                .SelectMany(r => r.Events)
                .Where(e => e.IsValid && e.TimestampFromSentAt is null && e.Time < end));
        }
        events.Sort((a, b) => a.Time.UtcTicks.CompareTo(b.Time.UtcTicks));
        return events;
    }
}
