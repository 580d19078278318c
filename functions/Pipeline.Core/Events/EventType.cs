namespace Pipeline.Core.Events;

/// <summary>The event types of the ingest contract. Values are persisted in the event store: never renumber.</summary>
public enum EventType : byte
{
    SessionStart = 1,
    SessionEnd = 2,
    PageView = 3,
    Share = 4,
    OrderPaid = 5,
    OrderRefunded = 6,
    AdImpression = 7,
    AdClick = 8,
    Error = 9,
    Complaint = 10,
    PermissionDenied = 11,
    MiniProgramPublished = 12,
    /// <summary><c>custom.&lt;name&gt;</c>; the name is in <see cref="PipelineEvent.CustomName"/>.</summary>
    Custom = 13,
}

/// <summary>Client platform named by an event. Persisted: never renumber.</summary>
public enum Platform : byte
{
    Unknown = 0,
    Ios = 1,
    Android = 2,
    Harmony = 3,
    Windows = 4,
    Mac = 5,
    Devtools = 6,
    Other = 7,
}

/// <summary>Where a <c>share</c> went. Persisted: never renumber.</summary>
public enum ShareTarget : byte
{
    None = 0,
    Chat = 1,
    Group = 2,
    Moments = 3,
}

/// <summary>The kind of an <c>error</c> event. Persisted: never renumber.</summary>
public enum ErrorKind : byte
{
    None = 0,
    JsError = 1,
    Crash = 2,
    Network = 3,
    Other = 4,
}
