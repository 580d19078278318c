using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Pipeline.Core.Ingest;

/// <summary>A rejected event as kept for operators: as sent, with every <c>userId</c> replaced by its pseudonym, so no raw user id is ever stored.</summary>
internal sealed partial class EventValidator
{
    /// <summary>
    /// The rejected event as sent, except that every top-level <c>userId</c> (whatever its JSON type)
    /// is replaced by its pseudonym. Null when the entry is not an object or cannot be re-written.
    /// </summary>
    private string? Sanitise(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object) return null;
        try
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            _writer.WriteStartObject();
            foreach (var property in element.EnumerateObject())
            {
                _writer.WritePropertyName(property.Name);
                if (property.NameEquals("userId"u8) && property.Value.ValueKind != JsonValueKind.Null)
                    _writer.WriteStringValue(PseudonymOf(property.Value));
                else
                    _writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(property.Value), skipInputValidation: true);
            }
            _writer.WriteEndObject();
            _writer.Flush();
            return Encoding.UTF8.GetString(_buffer.WrittenSpan);
        }
        catch (InvalidOperationException)
        {
            return null; // a property name that is not valid UTF-8
        }
    }

    /// <summary>The pseudonym of a <c>userId</c>, hashed once per batch.</summary>
    private string PseudonymOfUser(string userId)
    {
        ref var pseudonym = ref CollectionsMarshal.GetValueRefOrAddDefault(_pseudonyms, userId, out _);
        return pseudonym ??= _pseudonymizer.Pseudonymize(userId);
    }

    private string PseudonymOf(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            try
            {
                return PseudonymOfUser(value.GetString()!); // same pseudonym as an accepted event would carry
            }
            catch (InvalidOperationException)
            {
                // not valid UTF-8: hash the bytes as sent
            }
        }
        return _pseudonymizer.Pseudonymize(JsonMarshal.GetRawUtf8Value(value));
    }
}
