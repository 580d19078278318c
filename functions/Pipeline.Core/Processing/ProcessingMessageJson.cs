using System.Text.Json;
using Pipeline.Core.Events;

namespace Pipeline.Core.Processing;

/// <summary>The claim-check message's JSON form: <c>{"batchId":"…","landingPath":"…"}</c>.</summary>
public static class ProcessingMessageJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static string Serialize(ProcessingMessage message) => JsonSerializer.Serialize(message, Options);

    /// <summary>Parses a message; throws <see cref="FormatException"/> naming what is wrong (the host then retries and finally poisons it).</summary>
    public static ProcessingMessage Parse(string json)
    {
        ProcessingMessage? message;
        try
        {
            message = JsonSerializer.Deserialize<ProcessingMessage>(json, Options);
        }
        catch (JsonException e)
        {
            throw new FormatException($"Processing message is not valid JSON: {e.Message}", e);
        }
        if (message is null || string.IsNullOrEmpty(message.BatchId) || string.IsNullOrEmpty(message.LandingPath))
            throw new FormatException("Processing message needs both batchId and landingPath.");
        return message;
    }
}
