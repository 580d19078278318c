namespace Pipeline.Storage.Queues;

/// <summary>Why a message was moved to a poison queue: the blob <c>rejected/poison/&lt;queue&gt;/&lt;yyyy-MM-dd&gt;/&lt;messageId&gt;.json</c>.</summary>
public sealed record PoisonRecord(
    string Queue,
    string MessageId,
    long DequeueCount,
    DateTimeOffset? InsertedOn,
    DateTimeOffset MovedAt,
    string Reason,
    string Body);
