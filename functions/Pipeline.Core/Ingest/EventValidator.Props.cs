using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Pipeline.Core.Events;

namespace Pipeline.Core.Ingest;

/// <summary>
/// The <c>props</c> of an event: the named props of its type, read by their entries in <see cref="EventProps"/>
/// (rule, required or not, where they are stored), and the limits on the rest (keys, depth, duplicates),
/// which are passed through.
/// </summary>
internal sealed partial class EventValidator
{
    /// <summary>A named prop's value as read, before it is stored: <see cref="Number"/> or <see cref="Text"/> by its value type.</summary>
    private struct PropValue
    {
        public long Number;
        public string? Text;
    }

    // The values of the event's named props, by their index among its type's props (EventProps.ForType).
    private readonly PropValue[] _propValues = new PropValue[32];

    /// <summary>
    /// Reads the props: each named prop of the type by its rule (in document order), then the type's required
    /// props in table order, then those required with another. <paramref name="present"/> has bit i set for
    /// each of <paramref name="uses"/>[i] that was sent (not null); their values wait in <see cref="_propValues"/>.
    /// </summary>
    private bool ReadProps(EventType type, string typeName, bool hasProps, JsonElement props, out PropUse[] uses, out uint present,
        out string? extraProps, out Failure failure)
    {
        extraProps = null;
        failure = default;
        uses = EventProps.ForType(type);
        present = 0;
        var writingExtra = false;
        if (hasProps)
        {
            foreach (var property in props.EnumerateObject())
            {
                var use = Match(uses, property);
                if (use >= 0)
                {
                    if (property.Value.ValueKind == JsonValueKind.Null) continue; // as if absent
                    if (ReadNamed(uses[use].Prop, property.Value, out _propValues[use]) is { } error)
                    {
                        failure = Invalid(error + ".");
                        return false;
                    }
                    present |= 1u << use;
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

        for (var i = 0; i < uses.Length; i++)
        {
            if (uses[i].Required && (present & (1u << i)) == 0)
            {
                failure = Missing($"{uses[i].Prop.Path} is required for {typeName}.");
                return false;
            }
        }
        for (var i = 0; i < uses.Length; i++)
        {
            if (uses[i].RequiredWithIndex is var with and >= 0 && (present & (1u << with)) != 0 && (present & (1u << i)) == 0)
            {
                failure = Missing($"{uses[i].Prop.Path} is required when {uses[i].RequiredWith!.Path} is present.");
                return false;
            }
        }

        if (writingExtra)
        {
            _writer.WriteEndObject();
            _writer.Flush();
            extraProps = Encoding.UTF8.GetString(_buffer.WrittenSpan);
        }
        return true;
    }

    private static int Match(PropUse[] uses, JsonProperty property)
    {
        for (var i = 0; i < uses.Length; i++)
        {
            if (property.NameEquals(uses[i].Prop.Utf8Name)) return i;
        }
        return -1;
    }

    /// <summary>Stores the named props read by <see cref="ReadProps"/> into the accepted event.</summary>
    private void StoreProps(PipelineEvent accepted, PropUse[] uses, uint present)
    {
        for (var i = 0; i < uses.Length; i++)
        {
            if ((present & (1u << i)) == 0) continue;
            var stored = uses[i].Prop.Stored;
            if (stored.ValueType == PropValueType.Text) stored.SetText(accepted, _propValues[i].Text);
            else stored.SetNumber(accepted, _propValues[i].Number);
        }
    }

    /// <summary>Reads a named prop by its rule; the rejection message (without its final full stop) when it breaks it.</summary>
    private static string? ReadNamed(EventProp prop, JsonElement value, out PropValue result)
    {
        result = default;
        var rule = prop.Rule;
        switch (rule.Kind)
        {
            case PropRuleKind.Integer:
                if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= rule.Min && number <= rule.Max)
                {
                    result.Number = number;
                    return null;
                }
                break;
            case PropRuleKind.Text:
                if (value.ValueKind == JsonValueKind.String)
                {
                    var text = value.GetString()!;
                    if (text.Length is > 0 && text.Length <= rule.Length)
                    {
                        result.Text = text;
                        return null;
                    }
                }
                // A length message: the value by its length (an empty or huge string echoes badly).
                return $"{prop.Path} must be {rule.Expected}; got {DescribeText(value)}";
            case PropRuleKind.Letters:
                if (value.ValueKind == JsonValueKind.String && rule.NormaliseLetters(value.GetString()!) is { } letters)
                {
                    result.Text = letters;
                    return null;
                }
                break;
            case PropRuleKind.OneOf:
                if (value.ValueKind == JsonValueKind.String && rule.TryParse(value.GetString()!, out var named))
                {
                    result.Number = named;
                    return null;
                }
                break;
            case PropRuleKind.Truncated:
                if (value.ValueKind == JsonValueKind.String)
                {
                    result.Text = JsonText.Truncate(value.GetString()!, rule.Length);
                    return null;
                }
                break;
            default:
                throw new InvalidOperationException($"No reading for rule {rule.Kind} of {prop.Path}.");
        }
        return $"{prop.Path} must be {rule.Expected}; got {JsonText.Describe(value)}";
    }

    /// <summary>A value for a length message: strings by their length (an empty or huge string echoes badly).</summary>
    private static string DescribeText(JsonElement value) => value.ValueKind != JsonValueKind.String
        ? JsonText.Describe(value)
        : JsonText.StringLength(value) switch
        {
            0 => "an empty string",
            var n => $"a string of {n} characters",
        };

    /// <summary>
    /// Rules every unknown prop obeys: string values at most 1024 characters, containers at most depth 4;
    /// names and string values, passed through unread, must be text (else <see cref="InvalidOperationException"/>,
    /// which rejects the event as not valid UTF-8).
    /// </summary>
    private string? CheckUnknown(JsonProperty property)
    {
        JsonText.RequireTextName(property);
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
                JsonText.RequireTextName(inner);
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
