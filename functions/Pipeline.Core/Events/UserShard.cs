using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Pipeline.Core.Events;

/// <summary>
/// The user shard of an event: a stable hash of the pseudonymous user key. Every event of a user
/// is in one shard, so distinct-user counts add up exactly across shards.
/// </summary>
public static class UserShard
{
    public static int Of(string? userKey, int shards)
    {
        if (shards <= 1 || string.IsNullOrEmpty(userKey)) return 0;
        // XxHash3 of the key's UTF-16 bytes: stable across processes and versions (unlike string.GetHashCode).
        var hash = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(userKey.AsSpan()));
        return (int)(hash % (ulong)shards);
    }
}
