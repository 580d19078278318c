using System.Text.Json.Serialization;
using Pipeline.Core.Events;

namespace Pipeline.Storage;

/// <summary>
/// JSON of the documents the adapters write (landing and rejected blobs, claim-check and rollup messages):
/// source-generated, camelCase, enums by name, nulls omitted.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(LandingBatch))]
[JsonSerializable(typeof(PipelineEvent))]
[JsonSerializable(typeof(RejectedBatch))]
[JsonSerializable(typeof(ProcessingMessage))]
[JsonSerializable(typeof(Queues.PoisonRecord))]
[JsonSerializable(typeof(Pipeline.Core.Rollup.RollupShardMessage))]
[JsonSerializable(typeof(Pipeline.Core.Rollup.RollupDayMessage))]
public sealed partial class StorageJsonContext : JsonSerializerContext;
