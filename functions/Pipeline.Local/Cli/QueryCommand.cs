using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Hosting.Endpoints.Metrics;
using Pipeline.Core.Export;
using Pipeline.Core.Query;
using Pipeline.Local.Hosting;

namespace Pipeline.Local.Cli;

/// <summary>
/// <c>query</c>: the query API's parameters on the command line, answered by the same parser and service
/// (so the same errors), as a table, CSV or the API's JSON. An operator with the storage account sees every
/// row, as a platform read key does.
/// </summary>
internal static class QueryCommand
{
    /// <summary>What the command line asked for: the API's parameters (by their API names), the output format and --all.</summary>
    internal static IReadOnlyList<string> Stakeholders { get; } = Pipeline.Core.Catalog.MetricCatalog.All.Select(m => m.Stakeholder).Distinct().ToList();

    internal sealed record Request(Dictionary<string, IReadOnlyList<string>> Parameters, string Format, bool AllPages);

    /// <summary>
    /// The verb. <paramref name="run"/> answers the parsed request; by default it starts the local environment
    /// and prints to the console. Tests pass their own, so that they go through this very argument parser.
    /// </summary>
    public static Command Create(Func<Request, CancellationToken, Task<int>>? run = null)
    {
        run ??= async (request, ct) =>
        {
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var services = await LocalServices.StartAsync(environment.Configuration, ct);
            return await RunAsync(services, request.Parameters, request.Format, request.AllPages, Console.Out, Console.Error, ct);
        };
        var date = new Option<string?>("--date") { Description = "One reporting day (YYYY-MM-DD)." };
        var from = new Option<string?>("--from") { Description = "First day of a range (YYYY-MM-DD)." };
        var to = new Option<string?>("--to") { Description = $"Last day of the range (inclusive; at most {MetricQueryLimits.MaxDays} days)." };
        var metric = new Option<string[]>("--metric") { Description = "Metric ids or prefixes (users.*); repeat or comma-separate.", AllowMultipleArgumentsPerToken = true };
        // From the catalog, so a new stakeholder (custom was one) is never missing from the help.
        var stakeholder = new Option<string?>("--stakeholder") { Description = "One of " + string.Join(", ", Stakeholders) + "." };
        var tier = new Option<string?>("--tier") { Description = "northstar, core, supporting or guardrail." };
        var dimension = new Option<string?>("--dimension") { Description = "One dimension (total, channel, miniProgram, ...)." };
        var value = new Option<string?>("--value") { Description = "One value of --dimension." };
        var miniProgram = new Option<string?>("--mini-program") { Description = "One mini-program's rows (from its own partition)." };
        var format = new Option<string>("--format") { Description = "table, csv or json.", DefaultValueFactory = _ => "table" };
        var limit = new Option<string?>("--limit") { Description = $"Rows per page (default {MetricQueryLimits.DefaultLimit}, at most {MetricQueryLimits.MaxLimit})." };
        var continuation = new Option<string?>("--continuation") { Description = "Start after the page that printed this token." };
        var all = new Option<bool>("--all") { Description = "Follow the continuation tokens and print every page." };
        var command = new Command("query", "Read metric rows as the query API does (GET /api/v1/metrics), printed as a table, CSV or JSON.")
        {
            date, from, to, metric, stakeholder, tier, dimension, value, miniProgram, format, limit, continuation, all,
        };
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            var parameters = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
            void Put(string name, string? v) { if (v is not null) parameters[name] = [v]; }
            Put("date", parse.GetValue(date));
            Put("from", parse.GetValue(from));
            Put("to", parse.GetValue(to));
            if (parse.GetValue(metric) is { Length: > 0 } metrics) parameters["metric"] = metrics;
            Put("stakeholder", parse.GetValue(stakeholder));
            Put("tier", parse.GetValue(tier));
            Put("dimension", parse.GetValue(dimension));
            Put("value", parse.GetValue(value));
            Put("miniProgram", parse.GetValue(miniProgram));
            Put("limit", parse.GetValue(limit));
            Put("continuation", parse.GetValue(continuation));
            return await run(new Request(parameters, parse.GetValue(format)!, parse.GetValue(all)), ct);
        }));
        return command;
    }

    /// <summary>Runs the query and prints it; the exit code is 0, or 1 when the query was refused (the error is printed).</summary>
    internal static async Task<int> RunAsync(IServiceProvider services, Dictionary<string, IReadOnlyList<string>> parameters, string format,
        bool allPages, TextWriter output, TextWriter errors, CancellationToken ct)
    {
        if (format is not ("table" or "csv" or "json"))
            throw new CliException($"--format must be table, csv or json; got '{format}'.");
        var parsed = MetricQueryParser.Parse(parameters);
        if (parsed.Error is { } refused)
            throw new CliException($"{refused.Message} ({refused.Code})");
        var query = parsed.Query!;
        var service = services.GetRequiredService<MetricQueryService>();
        var first = true;
        while (true)
        {
            var (page, error) = await service.RunAsync(query, ReadAccess.Platform("cli"), ct);
            if (page is null) throw new CliException($"{error!.Message} ({error.Code})");
            if (first && page.MissingDays.Count > 0)
                await errors.WriteLineAsync($"Not rolled up yet: {string.Join(", ", page.MissingDays.Select(d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))}");
            switch (format)
            {
                case "json":
                    await output.WriteLineAsync(Encoding.UTF8.GetString(MetricsQueryEndpoint.ToJson(page).Span));
                    break;
                case "csv":
                    var csv = Encoding.UTF8.GetString(QueryCsv.Write(page.Rows));
                    // Later pages repeat no header, so the pages concatenate into one CSV.
                    await output.WriteAsync(first ? csv : csv[(csv.IndexOf('\n') + 1)..]);
                    break;
                default:
                    await WriteTableAsync(page, output, header: first);
                    break;
            }
            first = false;
            if (page.Continuation is null) return 0;
            if (!allPages)
            {
                await errors.WriteLineAsync($"More rows: add --continuation {page.Continuation} (or --all).");
                return 0;
            }
            ContinuationToken.TryRead(page.Continuation, query with { After = null }, out var after);
            query = query with { After = after };
        }
    }

    private static async Task WriteTableAsync(QueryPage page, TextWriter output, bool header)
    {
        var rows = new List<string[]>();
        if (header) rows.Add(["DATE", "METRIC", "DIMENSION", "VALUE", "VALUE_OF", "UNIT", "COMPUTED (UTC)", "RESTATED"]);
        foreach (var stored in page.Rows)
        {
            var r = stored.Row;
            rows.Add([
                r.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                r.Metric,
                r.Dimension == "total" ? "total" : $"{r.Dimension}={r.DimensionValue}",
                DailyCsv.Number(r.Value),
                r.Numerator is { } n && r.Denominator is { } d ? $"{DailyCsv.Number(n)}/{DailyCsv.Number(d)}" : "",
                r.Unit,
                stored.ComputedAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "",
                stored.Restated ? $"yes (was {DailyCsv.Number(stored.PreviousValue ?? 0)})" : "",
            ]);
        }
        if (rows.Count == 0) return;
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
            await output.WriteLineAsync(string.Join("  ", row.Select((cell, c) => c == 3 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))).TrimEnd());
    }
}
