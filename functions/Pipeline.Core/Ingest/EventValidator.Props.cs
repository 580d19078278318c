using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Events;

namespace Pipeline.Core.Ingest;

/// <summary>The <c>props</c> of an event: the named props of its type (<see cref="PropSpec"/>), and the limits on the rest (keys, depth, duplicates), which are passed through.</summary>
internal sealed partial class EventValidator
{
    private bool ReadProps(EventType type, string typeName, bool hasProps, JsonElement props, ref PropValues values,
        out string? extraProps, out Failure failure)
    {
        extraProps = null;
        failure = default;
        var specs = PropSpec.ForType(type);
        uint present = 0;
        var writingExtra = false;
        if (hasProps)
        {
            foreach (var property in props.EnumerateObject())
            {
                var spec = PropSpec.Match(specs, property);
                if (spec >= 0)
                {
                    if (property.Value.ValueKind == JsonValueKind.Null) continue; // as if absent
                    if (ReadNamed(specs[spec], property.Value, ref values) is { } error)
                    {
                        failure = Invalid(error + ".");
                        return false;
                    }
                    present |= 1u << spec;
                    continue;
                }

                if (CheckUnknown(property) is { } problem)
                {
                    failure = Invalid(problem + ".");
                    return false;
                }
                if (!writingExtra)
                {
                    _buffer.ResetWrittenCount();
                    _writer.Reset(_buffer);
                    _writer.WriteStartObject();
                    writingExtra = true;
                }
                property.WriteTo(_writer);
            }
        }

        for (var i = 0; i < specs.Length; i++)
        {
            if (specs[i].Required && (present & (1u << i)) == 0)
            {
                failure = Missing($"props.{specs[i].Name} is required for {typeName}.");
                return false;
            }
        }
        if (type == EventType.AdImpression && values.Revenue is not null && values.Currency is null)
        {
            failure = Missing("props.currency is required when props.revenue is present.");
            return false;
        }

        if (writingExtra)
        {
            _writer.WriteEndObject();
            _writer.Flush();
            extraProps = Encoding.UTF8.GetString(_buffer.WrittenSpan);
        }
        return true;
    }

    private static string? ReadNamed(PropSpec spec, JsonElement value, ref PropValues values)
    {
        switch (spec.Field)
        {
            case PropField.Scene:
                if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var scene))
                {
                    values.Scene = scene;
                    return null;
                }
                return $"props.scene must be an integer entry-scene code; got {JsonText.Describe(value)}";
            case PropField.LoadMs:
                return ReadInteger(value, "props.loadMs", 0, "an integer >= 0 (milliseconds)", out values.LoadMs);
            case PropField.DurationMs:
                return ReadInteger(value, "props.durationMs", 0, "an integer >= 0 (milliseconds)", out values.DurationMs);
            case PropField.Amount:
                return ReadInteger(value, "props.amount", 1, "an integer > 0 (minor units)", out values.Amount);
            case PropField.Revenue:
                return ReadInteger(value, "props.revenue", 0, "an integer >= 0 (minor units)", out values.Revenue);
            case PropField.Page:
                return ReadText(value, "props.page", IngestLimits.MaxPageLength, out values.Page);
            case PropField.ReferrerMiniProgramId:
                return ReadText(value, "props.referrerMiniProgramId", IngestLimits.MaxIdentifierLength, out values.ReferrerMiniProgramId);
            case PropField.OrderId:
                return ReadText(value, "props.orderId", IngestLimits.MaxIdentifierLength, out values.OrderId);
            case PropField.MerchantId:
                return ReadText(value, "props.merchantId", IngestLimits.MaxIdentifierLength, out values.MerchantId);
            case PropField.AdUnitId:
                return ReadText(value, "props.adUnitId", IngestLimits.MaxIdentifierLength, out values.AdUnitId);
            case PropField.Reason:
                return ReadText(value, "props.reason", IngestLimits.MaxIdentifierLength, out values.Reason);
            case PropField.Scope:
                return ReadText(value, "props.scope", IngestLimits.MaxIdentifierLength, out values.Scope);
            case PropField.DeveloperId:
                return ReadText(value, "props.developerId", IngestLimits.MaxIdentifierLength, out values.DeveloperId);
            case PropField.Version:
                return ReadText(value, "props.version", IngestLimits.MaxIdentifierLength, out values.Version);
            case PropField.Category:
                return ReadText(value, "props.category", IngestLimits.MaxIdentifierLength, out values.Category);
            case PropField.Currency:
                if (value.ValueKind == JsonValueKind.String && NormaliseCurrency(value.GetString()!) is { } currency)
                {
                    values.Currency = currency;
                    return null;
                }
                return $"props.currency must be a 3-letter ISO-4217 code; got {JsonText.Describe(value)}";
            case PropField.Target:
                if (value.ValueKind == JsonValueKind.String && WireNames.TryParseShareTarget(value.GetString()!, out var target))
                {
                    values.ShareTarget = target;
                    return null;
                }
                return $"props.target must be one of chat, group, moments; got {JsonText.Describe(value)}";
            case PropField.Kind:
                if (value.ValueKind == JsonValueKind.String && WireNames.TryParseErrorKind(value.GetString()!, out var kind))
                {
                    values.ErrorKind = kind;
                    return null;
                }
                return $"props.kind must be one of js_error, crash, network, other; got {JsonText.Describe(value)}";
            case PropField.Message:
                if (value.ValueKind == JsonValueKind.String)
                {
                    // Truncated, never rejected: the contract keeps error events whatever their message.
                    values.Message = JsonText.Truncate(value.GetString()!, IngestLimits.MaxErrorMessageLength);
                    return null;
                }
                return $"props.message must be a string; got {JsonText.Describe(value)}";
            default:
                throw new InvalidOperationException($"No rule for prop {spec.Field}.");
        }
    }

    private static string? ReadInteger(JsonElement value, string name, long min, string rule, out long? result)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= min)
        {
            result = number;
            return null;
        }
        result = null;
        return $"{name} must be {rule}; got {JsonText.Describe(value)}";
    }

    private static string? ReadText(JsonElement value, string name, int max, out string? result)
    {
        result = null;
        if (value.ValueKind == JsonValueKind.String)
        {
            var text = value.GetString()!;
            if (text.Length is > 0 && text.Length <= max)
            {
                result = text;
                return null;
            }
        }
        return $"{name} must be a string of 1 to {max} characters; got {DescribeText(value)}";
    }

    /// <summary>A value for a length message: strings by their length (an empty or huge string echoes badly).</summary>
    private static string DescribeText(JsonElement value) => value.ValueKind != JsonValueKind.String
        ? JsonText.Describe(value)
        : JsonText.StringLength(value) switch
        {
            0 => "an empty string",
            var n => $"a string of {n} characters",
        };

    private static string? NormaliseCurrency(string text)
    {
        if (text.Length != IngestLimits.CurrencyLength) return null;
        foreach (var c in text)
        {
            if (!char.IsAsciiLetter(c)) return null;
        }
        foreach (var c in text)
        {
            if (char.IsAsciiLetterLower(c)) return text.ToUpperInvariant();
        }
        return text;
    }

    /// <summary>Rules every unknown prop obeys: string values at most 1024 characters, containers at most depth 4.</summary>
    private string? CheckUnknown(JsonProperty property)
    {
        var value = property.Value;
        return value.ValueKind switch
        {
            JsonValueKind.String => JsonText.StringLength(value) is var n && n > IngestLimits.MaxPropStringLength
                ? $"props.{NameForMessage(property.Name)} is {n} characters; string values in props are at most {IngestLimits.MaxPropStringLength}"
                : null,
            JsonValueKind.Object or JsonValueKind.Array => CheckContainer(value, 2, property),
            _ => null,
        };
    }

    /// <summary>Checks a container at <paramref name="depth"/> (props itself is depth 1) and everything inside it.</summary>
    private string? CheckContainer(JsonElement container, int depth, JsonProperty top)
    {
        if (depth > IngestLimits.MaxPropsDepth)
            return $"props.{NameForMessage(top.Name)} nests deeper than {IngestLimits.MaxPropsDepth} levels (props itself is level 1)";
        if (container.ValueKind == JsonValueKind.Object)
        {
            if (FindDuplicateName(container) is { } repeated)
                return $"props.{NameForMessage(top.Name)} has an object with the property \"{NameForMessage(repeated)}\" more than once";
            foreach (var inner in container.EnumerateObject())
            {
                if (CheckNested(inner.Value, depth, top) is { } problem) return problem;
            }
        }
        else
        {
            foreach (var item in container.EnumerateArray())
            {
                if (CheckNested(item, depth, top) is { } problem) return problem;
            }
        }
        return null;
    }

    private string? CheckNested(JsonElement value, int parentDepth, JsonProperty top) => value.ValueKind switch
    {
        JsonValueKind.String => JsonText.StringLength(value) is var n && n > IngestLimits.MaxPropStringLength
            ? $"props.{NameForMessage(top.Name)} contains a string of {n} characters; string values in props are at most {IngestLimits.MaxPropStringLength}"
            : null,
        JsonValueKind.Object or JsonValueKind.Array => CheckContainer(value, parentDepth + 1, top),
        _ => null,
    };

    private static int CountProperties(JsonElement obj, int stopAt)
    {
        var count = 0;
        foreach (var _ in obj.EnumerateObject())
        {
            if (++count >= stopAt) break;
        }
        return count;
    }

    /// <summary>
    /// The first name that repeats in an object, or null. Small objects (the common case) are
    /// compared pairwise on raw UTF-8 names without allocating; large ones, and names with escapes
    /// (so that <c>"a"</c> and <c>"\u0061"</c> count as the same name), go through a set of strings.
    /// </summary>
    private static string? FindDuplicateName(JsonElement obj)
    {
        const int PairwiseLimit = 16;
        var count = CountProperties(obj, PairwiseLimit + 1);
        if (count <= 1) return null;
        if (count <= PairwiseLimit)
        {
            var i = 0;
            var escaped = false;
            foreach (var property in obj.EnumerateObject())
            {
                var name = JsonMarshal.GetRawUtf8PropertyName(property);
                if (name.IndexOf((byte)'\\') >= 0)
                {
                    escaped = true;
                    break;
                }
                var j = 0;
                foreach (var earlier in obj.EnumerateObject())
                {
                    if (j++ == i) break;
                    if (name.SequenceEqual(JsonMarshal.GetRawUtf8PropertyName(earlier))) return property.Name;
                }
                i++;
            }
            if (!escaped) return null;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in obj.EnumerateObject())
        {
            if (!names.Add(property.Name)) return property.Name;
        }
        return null;
    }
}
