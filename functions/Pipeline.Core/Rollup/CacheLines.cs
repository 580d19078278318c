using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Pipeline.Core.Rollup;

/// <summary>
/// Asks the processor to bring a location's cache line in ahead of its use (a prefetch): a hint, with no
/// effect on what the program computes.
/// </summary>
/// <remarks>
/// The streaming roll touches a few records per event in tables of several megabytes (the string table, the
/// per-string and per-session records), each touch a cache miss when made at the event. Fetched ahead for a
/// whole block at once, in loops of nothing else, the misses overlap instead of being waited for one at a
/// time. The address is taken from a managed reference: should the collector move the array meanwhile, the
/// hint names a stale line, which costs nothing (a prefetch never faults). No-op where the instruction is
/// not available.
/// </remarks>
internal static class CacheLines
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Fetch<T>(ref T location)
    {
        if (Sse.IsSupported) Sse.Prefetch0(Unsafe.AsPointer(ref location));
    }

    /// <summary>Fetches the lines of <paramref name="bytes"/> bytes from <paramref name="location"/> on (a record that may straddle lines).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Fetch<T>(ref T location, int bytes)
    {
        ref var first = ref Unsafe.As<T, byte>(ref location);
        for (var offset = 0; offset < bytes; offset += 64) Fetch(ref Unsafe.Add(ref first, offset));
        Fetch(ref Unsafe.Add(ref first, bytes - 1));
    }
}
