using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using Pipeline.Core.Events;
using static Pipeline.Core.Tests.Ingest.IngestTestData;

namespace Pipeline.Core.Tests.Ingest;

/// <summary>
/// What the validator does with every named prop of the contract, probed with values at and past
/// every rule's edges: one line per probe, the rejection's code and message or the props as stored.
/// Written independently of the prop table (the contract's types and props are listed here by hand), so
/// that <see cref="NamedPropsGoldenTests"/> can hold the wire behaviour to a transcript recorded before
/// the table existed.
/// </summary>
internal static class NamedPropsTranscript
{
    /// <summary>The contract's named props per type (docs/ingest-contract.md), in its order.</summary>
    public static readonly (string Type, string[] Props)[] Contract =
    [
        ("session_start", ["scene", "loadMs", "referrerMiniProgramId"]),
        ("session_end", ["durationMs"]),
        ("page_view", ["page", "durationMs"]),
        ("share", ["target", "page"]),
        ("order_paid", ["orderId", "amount", "currency", "merchantId"]),
        ("order_refunded", ["orderId", "amount", "currency", "merchantId"]),
        ("ad_impression", ["adUnitId", "revenue", "currency"]),
        ("ad_click", ["adUnitId"]),
        ("error", ["kind", "message"]),
        ("complaint", ["reason"]),
        ("permission_denied", ["scope"]),
        ("mini_program_published", ["developerId", "version", "category"]),
        ("custom.level_up", []),
    ];

    private static readonly string[] AllNames =
    [
        "scene", "loadMs", "referrerMiniProgramId", "durationMs", "page", "target", "orderId", "amount", "currency",
        "merchantId", "adUnitId", "revenue", "kind", "message", "reason", "scope", "developerId", "version", "category",
    ];

    private static string Text(string unit, int count) => "\"" + string.Concat(Enumerable.Repeat(unit, count)) + "\"";

    /// <summary>JSON values tried for each named prop of each type.</summary>
    private static readonly string[] Probes =
    [
        "null", "{}", "[1]", "true", "0", "-1", "1", "1.5", "1.0", "1e3", "-0",
        "2147483647", "2147483648", "-2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
        "\"\"", "\"x\"", "\"12\"", "\"usd\"", "\"USD\"", "\"uSd\"", "\"US1\"", "\"USDX\"", "\"ÜSD\"",
        "\"chat\"", "\"moments\"", "\"Chat\"", "\"\\u0063hat\"", "\"js_error\"", "\"other\"", "\"fatal\"",
        Text("a", 128), Text("a", 129), Text("é", 256), Text("a", 257),
        Text("m", 1024), Text("m", 1025), "\"" + new string('m', 1023) + "😀\"",
        "\"a\\u0000b\"", "\"😀\"",
    ];

    /// <summary>The transcript, one line per probe (LF line ends).</summary>
    public static string Build()
    {
        var sb = new StringBuilder();
        foreach (var (type, props) in Contract)
        {
            foreach (var prop in props)
            {
                for (var i = 0; i < Probes.Length; i++)
                {
                    var e = Event(type);
                    e.Props()[prop] = JsonNode.Parse(Probes[i]);
                    Line(sb, $"{type} {prop}={Short(Probes[i])}", e);
                }
                var removed = Event(type);
                removed.Props().Remove(prop);
                Line(sb, $"{type} {prop} removed", removed);
            }

            // Every required prop removed at once: which is reported first.
            var none = Event(type);
            none.Props().Clear();
            Line(sb, $"{type} no props", none);

            // The contract's other named props, sent on a type that does not name them: passed through.
            var others = Event(type);
            foreach (var name in AllNames.Where(n => !props.Contains(n))) others.Props()[name] = "x";
            Line(sb, $"{type} other types' props", others);
            var numbers = Event(type);
            foreach (var name in AllNames.Where(n => !props.Contains(n))) numbers.Props()[name] = -7;
            Line(sb, $"{type} other types' props as numbers", numbers);
        }

        // Revenue and its currency.
        foreach (var (revenue, currency) in new (string?, string?)[] { ("5", null), ("5", "null"), ("null", null), (null, null), (null, "\"cny\""), ("0", "\"CNY\"") })
        {
            var e = Event("ad_impression");
            e.Props().Remove("revenue");
            e.Props().Remove("currency");
            if (revenue is not null) e.Props()["revenue"] = JsonNode.Parse(revenue);
            if (currency is not null) e.Props()["currency"] = JsonNode.Parse(currency);
            Line(sb, $"ad_impression revenue={revenue ?? "absent"} currency={currency ?? "absent"}", e);
        }
        return sb.ToString();
    }

    private static string Short(string probe) => probe.Length <= 24 ? probe : $"{probe[..12]}…({probe.Length} chars)";

    private static readonly string[] Common =
        ["EventId", "Type", "CustomName", "TimeMs", "UserKey", "MiniProgramId", "SessionId", "Platform", "Source", "ReceivedMs"];

    private static readonly PropertyInfo[] Stored = typeof(PipelineEvent).GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => !Common.Contains(p.Name)).OrderBy(p => p.Name, StringComparer.Ordinal).ToArray();

    private static void Line(StringBuilder sb, string label, JsonObject e)
    {
        var result = Parse(Body(e));
        sb.Append(label).Append(" -> ");
        if (result.ErrorCode is not null) sb.Append("batch ").Append(result.ErrorCode);
        else if (result.Rejections.Count > 0) sb.Append("rejected ").Append(result.Rejections[0].Code).Append(": ").Append(result.Rejections[0].Message);
        else
        {
            sb.Append("accepted");
            var accepted = result.Accepted[0];
            foreach (var p in Stored)
            {
                var value = p.GetValue(accepted);
                if (value is null || (p.PropertyType.IsValueType && Equals(value, Activator.CreateInstance(p.PropertyType)))) continue;
                var text = string.Concat(Convert.ToString(value, CultureInfo.InvariantCulture)!.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()));
                sb.Append(' ').Append(p.Name).Append('=').Append(text.Length <= 48 ? text : $"{text[..16]}…({text.Length} chars)");
            }
        }
        sb.Append('\n');
    }
}
