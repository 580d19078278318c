namespace Pipeline.Core.Ports;

/// <summary>
/// Another invocation wrote the same rollup state since this one read it (a shard message delivered
/// twice at once, or a stalled run resumed while its first invocation was still alive). The message
/// is retried and resumes from the progress the winner recorded.
/// </summary>
public sealed class RollupConflictException(string message, Exception? inner = null) : Exception(message, inner);
