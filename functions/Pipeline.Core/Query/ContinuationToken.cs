using System.Buffers.Text;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;

namespace Pipeline.Core.Query;

/// <summary>
/// The query API's continuation token: where a page ended (date, metric, dimension, value) and a hash of
/// the query it belongs to, as base64url JSON. Opaque to clients; not secret (it holds nothing a caller
/// could not read in the page itself) and not trusted (a forged position only moves where a page starts,
/// inside what the key may see anyway).
/// </summary>
public static class ContinuationToken
{
    public static string Write(MetricQuery query, RowPosition last)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(last);
        var json = JsonSerializer.SerializeToUtf8Bytes(
            new[] { Hash(query), last.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), last.Metric, last.Dimension, last.DimensionValue },
            QueryJsonContext.Default.StringArray);
        return Base64Url.EncodeToString(json);
    }

    public static bool TryRead(string token, MetricQuery query, out RowPosition? position)
    {
        position = null;
        if (string.IsNullOrEmpty(token) || token.Length > 4096) return false;
        try
        {
            var parts = JsonSerializer.Deserialize(Base64Url.DecodeFromChars(token), QueryJsonContext.Default.StringArray);
            if (parts is not { Length: 5 } || parts.Any(p => p is null) || parts[0] != Hash(query)) return false;
            if (!DateOnly.TryParseExact(parts[1], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) return false;
            if (date < query.From || date > query.To) return false;
            position = new RowPosition(date, parts[2], parts[3], parts[4]);
            return true;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return false;
        }
    }

    private static string Hash(MetricQuery query) =>
        XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(query.Fingerprint())).ToString("x16", CultureInfo.InvariantCulture);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class QueryJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
