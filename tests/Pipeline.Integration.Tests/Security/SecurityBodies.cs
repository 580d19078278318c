using System.Globalization;

namespace Pipeline.Integration.Tests.Security;

/// <summary>Small valid ingest bodies stamped with the current time.</summary>
internal static class SecurityBodies
{
    /// <summary>One <c>session_start</c> per (eventId, miniProgramId).</summary>
    public static string Sessions(params (string EventId, string MiniProgramId)[] events)
    {
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var items = events.Select(e =>
            "{\"eventId\":\"" + e.EventId + "\",\"type\":\"session_start\",\"timestamp\":\"" + now + "\",\"userId\":\"user-" + e.EventId +
            "\",\"miniProgramId\":\"" + e.MiniProgramId + "\",\"sessionId\":\"s-" + e.EventId + "\",\"props\":{\"scene\":1001}}");
        return "{\"events\":[" + string.Join(",", items) + "]}";
    }
}
