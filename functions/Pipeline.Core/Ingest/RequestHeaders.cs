namespace Pipeline.Core.Ingest;

/// <summary>Checks of the ingest request's content headers (<c>415</c> when they fail).</summary>
public static class RequestHeaders
{
    /// <summary>
    /// True when <paramref name="contentType"/> is <c>application/json</c> (media type compared
    /// case-insensitively, surrounding spaces ignored). A <c>charset</c> parameter, if present, must be
    /// <c>utf-8</c> in any letter case, optionally quoted. Other parameters are ignored; a parameter
    /// without <c>=</c> makes the header malformed (false). Missing header: false.
    /// </summary>
    public static bool IsJsonUtf8(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return false;
        var rest = contentType.AsSpan();
        var semi = rest.IndexOf(';');
        var mediaType = (semi < 0 ? rest : rest[..semi]).Trim();
        if (!mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)) return false;
        while (semi >= 0)
        {
            rest = rest[(semi + 1)..];
            semi = rest.IndexOf(';');
            var parameter = (semi < 0 ? rest : rest[..semi]).Trim();
            if (parameter.IsEmpty) continue; // "application/json;" is harmless
            var eq = parameter.IndexOf('=');
            if (eq <= 0) return false;
            var name = parameter[..eq].Trim();
            if (!name.Equals("charset", StringComparison.OrdinalIgnoreCase)) continue;
            var value = parameter[(eq + 1)..].Trim();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"') value = value[1..^1];
            if (!value.Equals("utf-8", StringComparison.OrdinalIgnoreCase)) return false;
        }
        return true;
    }

    /// <summary>
    /// Reads <c>Content-Encoding</c>: absent, empty or <c>identity</c> is a plain body, <c>gzip</c> (any
    /// case) is gzip; anything else, including lists such as <c>gzip, br</c> and <c>x-gzip</c>, returns
    /// false (<c>415 unsupported_encoding</c>).
    /// </summary>
    public static bool TryParseContentEncoding(string? contentEncoding, out bool gzip)
    {
        gzip = false;
        var value = contentEncoding.AsSpan().Trim();
        if (value.IsEmpty || value.Equals("identity", StringComparison.OrdinalIgnoreCase)) return true;
        if (value.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            gzip = true;
            return true;
        }
        return false;
    }
}
