using System.Globalization;
using Pipeline.Core.Catalog;
using Pipeline.Core.Ingest;

namespace Pipeline.Core.Query;

/// <summary>The answer formats of the query API.</summary>
public enum QueryFormat { Json, Csv }

/// <summary>What <see cref="MetricQueryParser.Parse"/> made of a request: a query, or the first error found.</summary>
public sealed record ParsedMetricQuery(MetricQuery? Query, QueryFormat Format, QueryError? Error);

/// <summary>
/// Reads the query API's parameters (docs/query.md) into a <see cref="MetricQuery"/>, refusing anything
/// that would silently answer something other than what was asked: an unknown parameter, metric,
/// dimension, stakeholder or tier (with the nearest valid names), a range backwards or longer than
/// <see cref="MetricQueryLimits.MaxDays"/>, a continuation token from another query.
/// </summary>
/// <remarks>Host-neutral: the endpoint and the CLI hand in the parameters as name → values (names compared ignoring case).</remarks>
public static class MetricQueryParser
{
    public static readonly IReadOnlyList<string> Parameters =
        ["date", "from", "to", "metric", "stakeholder", "tier", "dimension", "value", "miniProgram", "format", "limit", "continuation"];

    private static readonly string[] Tiers = [MetricTiers.NorthStar, MetricTiers.Core, MetricTiers.Supporting, MetricTiers.Guardrail];

    public static ParsedMetricQuery Parse(IReadOnlyDictionary<string, IReadOnlyList<string>> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var format = QueryFormat.Json;

        foreach (var name in parameters.Keys)
        {
            if (!Parameters.Contains(name, StringComparer.OrdinalIgnoreCase))
                return Refuse(QueryError.BadRequest("unknown_parameter", name,
                    $"'{name}' is not a parameter of this endpoint.{NameSuggestions.DidYouMean(name, Parameters)} Parameters: {string.Join(", ", Parameters)}."));
        }

        string? Single(string name, out QueryError? error)
        {
            error = null;
            if (!TryGet(parameters, name, out var values)) return null;
            if (values.Count > 1 && name is not "metric")
            {
                error = QueryError.BadRequest("repeated_parameter", name, $"'{name}' is given {values.Count} times; give it once.");
                return null;
            }
            var v = values[0].Trim();
            if (v.Length == 0) error = QueryError.BadRequest("empty_parameter", name, $"'{name}' is empty; leave it out or give a value.");
            return v;
        }

        var formatText = Single("format", out var err);
        if (err is not null) return Refuse(err);
        if (formatText is not null)
        {
            if (formatText.Equals("json", StringComparison.OrdinalIgnoreCase)) format = QueryFormat.Json;
            else if (formatText.Equals("csv", StringComparison.OrdinalIgnoreCase)) format = QueryFormat.Csv;
            else return Refuse(QueryError.BadRequest("invalid_format", "format", $"'format' must be json or csv; got '{formatText}'."));
        }

        // Dates: date=D, or from=D[&to=D] (to defaults to from).
        var date = Single("date", out err); if (err is not null) return Refuse(err, format);
        var fromText = Single("from", out err); if (err is not null) return Refuse(err, format);
        var toText = Single("to", out err); if (err is not null) return Refuse(err, format);
        DateOnly from, to;
        if (date is not null)
        {
            if (fromText is not null || toText is not null)
                return Refuse(QueryError.BadRequest("conflicting_dates", "date", "Give either 'date' or 'from' and 'to', not both."), format);
            if (!TryDate(date, out from)) return Refuse(InvalidDate("date", date), format);
            to = from;
        }
        else if (fromText is not null)
        {
            if (!TryDate(fromText, out from)) return Refuse(InvalidDate("from", fromText), format);
            to = from;
            if (toText is not null && !TryDate(toText, out to)) return Refuse(InvalidDate("to", toText), format);
        }
        else if (toText is not null)
            return Refuse(QueryError.BadRequest("missing_date", "from", "'to' needs 'from': give from=YYYY-MM-DD&to=YYYY-MM-DD, or date=YYYY-MM-DD."), format);
        else
            return Refuse(QueryError.BadRequest("missing_date", "date", "Give the reporting day as date=YYYY-MM-DD, or a range as from=YYYY-MM-DD&to=YYYY-MM-DD."), format);
        if (to < from)
            return Refuse(QueryError.BadRequest("invalid_range", "to", $"'to' ({To(to)}) is before 'from' ({To(from)})."), format);
        var days = to.DayNumber - from.DayNumber + 1;
        if (days > MetricQueryLimits.MaxDays)
            return Refuse(QueryError.BadRequest("range_too_long", "to",
                $"The range {To(from)}..{To(to)} is {days} days; one query reads at most {MetricQueryLimits.MaxDays}. Split it, or use the Parquet exports for longer spans."), format);

        // Metrics: ids and prefixes, comma-separated and/or repeated.
        List<string>? metrics = null;
        if (TryGet(parameters, "metric", out var metricValues))
        {
            metrics = [];
            foreach (var item in metricValues.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries)))
            {
                if (item.Length == 0)
                    return Refuse(QueryError.BadRequest("empty_parameter", "metric", "'metric' holds an empty name; give ids such as users.dau, or a prefix such as users.*."), format);
                if (item.EndsWith('*'))
                {
                    var prefix = item[..^1];
                    if (prefix.Length == 0 || !MetricCatalog.All.Any(m => m.Id.StartsWith(prefix, StringComparison.Ordinal)))
                        return Refuse(QueryError.BadRequest("unknown_metric", "metric",
                            $"No metric of the catalog starts with '{prefix}'.{NameSuggestions.DidYouMean(prefix.TrimEnd('.'), MetricCatalog.All.Select(m => m.Stakeholder + ".*"))} See GET /api/v1/catalog."), format);
                    metrics.Add(prefix + "*"); // kept as a prefix, even when it is also a whole id (users.retention_d1* takes d14 too)
                }
                else if (MetricCatalog.TryGet(item, out _)) metrics.Add(item);
                else
                    return Refuse(QueryError.BadRequest("unknown_metric", "metric",
                        $"'{item}' is not a metric of the catalog.{NameSuggestions.DidYouMean(item, MetricCatalog.All.Select(m => m.Id))} See GET /api/v1/catalog."), format);
            }
            metrics = metrics.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        }

        var stakeholder = Single("stakeholder", out err); if (err is not null) return Refuse(err, format);
        var stakeholders = MetricCatalog.All.Select(m => m.Stakeholder).Distinct().ToList();
        if (stakeholder is not null && !stakeholders.Contains(stakeholder, StringComparer.Ordinal))
            return Refuse(QueryError.BadRequest("unknown_stakeholder", "stakeholder",
                $"'{stakeholder}' is not a stakeholder.{NameSuggestions.DidYouMean(stakeholder, stakeholders)} Stakeholders: {string.Join(", ", stakeholders)}."), format);

        var tier = Single("tier", out err); if (err is not null) return Refuse(err, format);
        if (tier is not null && !Tiers.Contains(tier, StringComparer.Ordinal))
            return Refuse(QueryError.BadRequest("unknown_tier", "tier", $"'{tier}' is not a tier.{NameSuggestions.DidYouMean(tier, Tiers)} Tiers: {string.Join(", ", Tiers)}."), format);

        var dimension = Single("dimension", out err); if (err is not null) return Refuse(err, format);
        if (dimension is not null)
        {
            var inScope = MetricsIn(metrics, stakeholder, tier).ToList();
            var valid = inScope.SelectMany(m => m.Dimensions).Distinct(StringComparer.Ordinal).ToList();
            if (!valid.Contains(dimension, StringComparer.Ordinal))
            {
                var all = MetricCatalog.All.SelectMany(m => m.Dimensions).Distinct(StringComparer.Ordinal).ToList();
                return Refuse(all.Contains(dimension, StringComparer.Ordinal)
                    ? QueryError.BadRequest("dimension_not_in_metric", "dimension",
                        $"None of the metrics asked for is broken down by '{dimension}'; they have: {string.Join(", ", valid)}.")
                    : QueryError.BadRequest("unknown_dimension", "dimension",
                        $"'{dimension}' is not a dimension of the catalog.{NameSuggestions.DidYouMean(dimension, all)} Dimensions: {string.Join(", ", all)}."), format);
            }
        }

        var value = Single("value", out err); if (err is not null) return Refuse(err, format);
        if (value is not null && dimension is null)
            return Refuse(QueryError.BadRequest("value_without_dimension", "value", "'value' filters the values of one dimension: give 'dimension' too (for example dimension=channel&value=search)."), format);

        var miniProgram = Single("miniProgram", out err); if (err is not null) return Refuse(err, format);
        if (miniProgram is not null && !MiniProgramIds.IsValid(miniProgram))
            return Refuse(QueryError.BadRequest("invalid_mini_program", "miniProgram", $"'{miniProgram}' is not a miniProgramId ({MiniProgramIds.Rule})."), format);
        if (miniProgram is not null && dimension is not null && !dimension.StartsWith("miniProgram", StringComparison.Ordinal))
            return Refuse(QueryError.BadRequest("dimension_not_per_mini_program", "dimension",
                $"'miniProgram' reads one mini-program's rows, whose dimensions start with miniProgram; '{dimension}' is an ecosystem dimension."), format);

        var limit = MetricQueryLimits.DefaultLimit;
        var limitText = Single("limit", out err); if (err is not null) return Refuse(err, format);
        if (limitText is not null && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MetricQueryLimits.MaxLimit))
            return Refuse(QueryError.BadRequest("invalid_limit", "limit", $"'limit' must be a whole number from 1 to {MetricQueryLimits.MaxLimit}; got '{limitText}'."), format);

        var query = new MetricQuery(from, to, metrics, stakeholder, tier, dimension, value, miniProgram, limit, null);
        var token = Single("continuation", out err); if (err is not null) return Refuse(err, format);
        if (token is not null)
        {
            if (!ContinuationToken.TryRead(token, query, out var after))
                return Refuse(QueryError.BadRequest("invalid_continuation", "continuation",
                    "'continuation' is not a token this query returned (it is opaque, and valid only with the same date range and filters)."), format);
            query = query with { After = after };
        }
        return new ParsedMetricQuery(query, format, null);
    }

    /// <summary>The catalog's metrics that the metric, stakeholder and tier filters keep.</summary>
    public static IEnumerable<MetricDefinition> MetricsIn(IReadOnlyList<string>? metrics, string? stakeholder, string? tier) =>
        MetricCatalog.All.Where(m =>
            (metrics is null || metrics.Any(p => p.EndsWith('*') ? m.Id.StartsWith(p[..^1], StringComparison.Ordinal) : p == m.Id))
            && (stakeholder is null || m.Stakeholder == stakeholder)
            && (tier is null || m.Tier == tier));

    private static ParsedMetricQuery Refuse(QueryError error, QueryFormat format = QueryFormat.Json) => new(null, format, error);

    private static bool TryGet(IReadOnlyDictionary<string, IReadOnlyList<string>> parameters, string name, out IReadOnlyList<string> values)
    {
        foreach (var (key, v) in parameters)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase) && v.Count > 0)
            {
                values = v;
                return true;
            }
        }
        values = [];
        return false;
    }

    private static bool TryDate(string text, out DateOnly day) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);

    private static QueryError InvalidDate(string name, string text) =>
        QueryError.BadRequest("invalid_date", name, $"'{name}' must be a reporting day as YYYY-MM-DD; got '{text}'.");

    private static string To(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
