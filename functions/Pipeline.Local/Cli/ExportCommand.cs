using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Ports;
using Pipeline.Local.Hosting;

namespace Pipeline.Local.Cli;

/// <summary>The format of the files <c>export</c> fetches.</summary>
internal enum ExportFormat { Csv, Parquet }

/// <summary>
/// What <c>export</c> was asked: one day (<c>--date</c>, to a file or standard output, as the verb always
/// did) or a range of days (<c>--from</c>/<c>--to</c>, into a folder).
/// </summary>
internal sealed record ExportRequest(DateOnly From, DateOnly To, ExportFormat Format, string? Out, bool SingleDay)
{
    public int Days => To.DayNumber - From.DayNumber + 1;
}

/// <summary>
/// <c>export --date DATE [--format csv|parquet] [--out FILE]</c> fetches one day's export;
/// <c>export --from DATE --to DATE [--format csv|parquet] [--out DIR]</c> fetches every day of a range into
/// DIR as <c>DIR/YYYY-MM-DD.csv</c> or, Hive-partitioned as in the exports container,
/// <c>DIR/date=YYYY-MM-DD/metrics.parquet</c> (docs/exports.md).
/// </summary>
/// <remarks>
/// Exit codes: 0 when every day was found and written; <see cref="ExitSomeDaysMissing"/> (3) when the
/// range ran to its end but some days had no export (not rolled up), each named on standard error; 1 for
/// a usage error or a single day without an export; 2 when storage is unreachable.
/// </remarks>
internal static class ExportCommand
{
    /// <summary>The longest range one <c>export</c> fetches: a year, leap day included.</summary>
    public const int MaxRangeDays = 366;

    /// <summary>Exit code of a range export that wrote every day it found but found not every day.</summary>
    public const int ExitSomeDaysMissing = 3;

    private sealed record Options(Option<DateOnly?> Date, Option<DateOnly?> From, Option<DateOnly?> To, Option<ExportFormat?> Format, Option<string?> Out);

    public static Command Create()
    {
        var options = NewOptions();
        var command = NewCommand(options);
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            var request = Validate(parse, options);
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var services = await LocalServices.StartAsync(environment.Configuration, ct);
            return await RunAsync(services, request, Console.Out, Console.Error, ct);
        }));
        return command;
    }

    private static Options NewOptions() => new(
        DateOptions.Create("--date", "One reporting day to fetch, to --out FILE or standard output", required: false),
        DateOptions.Create("--from", "First reporting day of a range to fetch into --out DIR", required: false),
        DateOptions.Create("--to", "Last reporting day of the range (at most " + MaxRangeDays.ToString(CultureInfo.InvariantCulture) + " days in all)", required: false),
        new Option<ExportFormat?>("--format")
        {
            Description = "csv (exports/daily/<date>.csv) or parquet (exports/parquet/date=<date>/metrics.parquet); default csv.",
            HelpName = "csv|parquet",
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (string.Equals(text, "csv", StringComparison.OrdinalIgnoreCase)) return ExportFormat.Csv;
                if (string.Equals(text, "parquet", StringComparison.OrdinalIgnoreCase)) return ExportFormat.Parquet;
                result.AddError($"--format must be csv or parquet; got '{text}'.");
                return null;
            },
        },
        new Option<string?>("--out") { Description = "With --date: the file to write (standard output when omitted; required for parquet). With --from/--to: the folder to write into (default: the current folder)." });

    private static Command NewCommand(Options o) => new("export",
        "Fetch the daily exports of the metric rows. --date DATE: one day's file. --from DATE --to DATE: every day of the range into a folder, "
        + "as DIR/YYYY-MM-DD.csv or DIR/date=YYYY-MM-DD/metrics.parquet (Hive layout, for DuckDB and Spark). "
        + "A day without an export (not rolled up) is named on standard error; the exit code is then " + ExitSomeDaysMissing.ToString(CultureInfo.InvariantCulture) + ".")
    {
        o.Date, o.From, o.To, o.Format, o.Out,
    };

    /// <summary>Parses and validates <paramref name="args"/> as the verb does (tests); a usage error is a <see cref="CliException"/> naming the option.</summary>
    internal static ExportRequest ParseArguments(params string[] args)
    {
        var options = NewOptions();
        var parse = NewCommand(options).Parse(args);
        if (parse.Errors.Count > 0) throw new CliException(string.Join(" ", parse.Errors.Select(e => e.Message)));
        return Validate(parse, options);
    }

    private static ExportRequest Validate(ParseResult parse, Options o) =>
        Validate(parse.GetValue(o.Date), parse.GetValue(o.From), parse.GetValue(o.To), parse.GetValue(o.Format) ?? ExportFormat.Csv, parse.GetValue(o.Out));

    /// <summary>The rules the parser cannot check alone: which options go together, the range's order and length.</summary>
    internal static ExportRequest Validate(DateOnly? date, DateOnly? from, DateOnly? to, ExportFormat format, string? output)
    {
        if (date is { } day)
        {
            if (from.HasValue || to.HasValue) throw new CliException("--date fetches one day; --from/--to a range: give one or the other.");
            if (format == ExportFormat.Parquet && string.IsNullOrEmpty(output))
                throw new CliException("--format parquet with --date needs --out FILE (a Parquet file is binary; it is not written to standard output).");
            return new ExportRequest(day, day, format, output, SingleDay: true);
        }
        if (!from.HasValue && !to.HasValue) throw new CliException("give --date DATE for one day, or --from DATE --to DATE for a range.");
        if (!from.HasValue) throw new CliException("--to needs --from: give both, or --date for one day.");
        if (!to.HasValue) throw new CliException("--from needs --to: give both, or --date for one day.");
        if (from > to) throw new CliException($"--from {from:yyyy-MM-dd} is after --to {to:yyyy-MM-dd}.");
        var request = new ExportRequest(from.Value, to.Value, format, string.IsNullOrEmpty(output) ? null : output, SingleDay: false);
        if (request.Days > MaxRangeDays)
            throw new CliException($"--from {from:yyyy-MM-dd} --to {to:yyyy-MM-dd} is {request.Days} days; one export fetches at most {MaxRangeDays}: split the range.");
        return request;
    }

    /// <summary>The file a day is written to under the range's folder: <c>YYYY-MM-DD.csv</c> or <c>date=YYYY-MM-DD/metrics.parquet</c>.</summary>
    internal static string RelativePath(DateOnly day, ExportFormat format)
    {
        var date = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return format == ExportFormat.Csv ? date + ".csv" : Path.Combine("date=" + date, "metrics.parquet");
    }

    /// <summary>
    /// Runs a validated request: the summary goes to <paramref name="output"/>, each file written and each
    /// day missing to <paramref name="errors"/>. Returns the exit code (see the class's remarks).
    /// </summary>
    internal static async Task<int> RunAsync(IServiceProvider services, ExportRequest request, TextWriter output, TextWriter errors, CancellationToken ct)
    {
        var exports = services.GetRequiredService<IExportStore>();
        if (request.SingleDay) return await RunDayAsync(exports, request, errors, ct);

        var folder = Path.GetFullPath(request.Out ?? ".");
        Directory.CreateDirectory(folder);
        var written = 0;
        var missing = new List<DateOnly>();
        for (var day = request.From; day <= request.To; day = day.AddDays(1))
        {
            var bytes = await ReadAsync(exports, day, request.Format, ct);
            if (bytes is null)
            {
                missing.Add(day);
                errors.WriteLine($"{day:yyyy-MM-dd}: not rolled up (no {Describe(exports, day, request.Format)}){Hint(day, request.Format)}");
                continue;
            }
            var path = Path.Combine(folder, RelativePath(day, request.Format));
            await WriteFileAsync(path, bytes, ct);
            written++;
            errors.WriteLine($"{Describe(exports, day, request.Format)} -> {path}");
        }

        var format = request.Format == ExportFormat.Csv ? "csv" : "parquet";
        var summary = $"export {request.From:yyyy-MM-dd}..{request.To:yyyy-MM-dd} ({request.Days} day(s), {format}) to {folder}: {written} file(s) written, {missing.Count} day(s) missing";
        if (missing.Count > 0) summary += " (not rolled up: " + string.Join(", ", missing.Select(d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))) + ")";
        output.WriteLine(summary);
        return missing.Count == 0 ? 0 : ExitSomeDaysMissing;
    }

    private static async Task<int> RunDayAsync(IExportStore exports, ExportRequest request, TextWriter errors, CancellationToken ct)
    {
        var day = request.From;
        var bytes = await ReadAsync(exports, day, request.Format, ct)
            ?? throw new CliException($"no export for {day:yyyy-MM-dd} ({Describe(exports, day, request.Format)}): the day has not been rolled up. Run 'rollup' first.");
        if (request.Out is { } path)
        {
            await WriteFileAsync(Path.GetFullPath(path), bytes, ct);
            errors.WriteLine($"Wrote {Describe(exports, day, request.Format)} to {Path.GetFullPath(path)}");
        }
        else
        {
            await using var stdout = Console.OpenStandardOutput();
            await stdout.WriteAsync(bytes, ct);
        }
        return 0;
    }

    private static Task<byte[]?> ReadAsync(IExportStore exports, DateOnly day, ExportFormat format, CancellationToken ct) =>
        format == ExportFormat.Csv ? exports.ReadDailyAsync(day, ct) : exports.ReadDailyParquetAsync(day, ct);

    private static string Describe(IExportStore exports, DateOnly day, ExportFormat format) =>
        format == ExportFormat.Csv ? exports.DescribeDaily(day) : exports.DescribeDailyParquet(day);

    /// <summary>Days rolled up before the Parquet exports existed have a CSV only; a re-roll writes both.</summary>
    private static string Hint(DateOnly day, ExportFormat format) =>
        format == ExportFormat.Parquet ? $"; a day rolled up before Parquet exports existed gets one from 'rollup --from {day:yyyy-MM-dd} --to {day:yyyy-MM-dd}'" : "";

    /// <summary>Writes beside the target, then renames over it, so a reader never sees half a file.</summary>
    private static async Task WriteFileAsync(string path, byte[] bytes, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".partial";
        await File.WriteAllBytesAsync(temporary, bytes, ct);
        File.Move(temporary, path, overwrite: true);
    }
}
