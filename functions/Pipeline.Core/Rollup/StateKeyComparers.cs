using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Pipeline.Core.Rollup;

/// <summary>
/// Equality of the window state's composite keys (<see cref="SessionKey"/>, <see cref="UserProgramKey"/>)
/// with a cheaper hash than the records' own.
/// </summary>
/// <remarks>
/// <para>A record struct hashes each string with the runtime's randomised string hash (Marvin, a few
/// bytes per step): for a session key, three strings of about 70 characters in all, per insert and per
/// lookup, about 120,000 of each per 1,000,000 events. This hash reads 16 bytes per step with one
/// 64×64→128-bit multiply (the wyhash mixing step).</para>
/// <para>Session ids and mini-program ids are sent by clients, so the hash stays seeded with a secret
/// random value per process: someone who can choose keys still cannot choose keys that collide.
/// Equality is ordinal, as the records'. Dictionary order does not depend on the hash and the codec
/// sorts the keys, so the encoded state is the same.</para>
/// </remarks>
internal static class StateKeyHash
{
    private static readonly ulong Seed = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
    private const ulong P0 = 0xa0761d6478bd642f, P1 = 0xe7037ed1a0b428db;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mum(ulong a, ulong b)
    {
        var hi = Math.BigMul(a, b, out var lo);
        return hi ^ lo;
    }

    /// <summary>Folds <paramref name="s"/> (its UTF-16 code units, and its length) into the running hash <paramref name="h"/>.</summary>
    private static ulong Add(ulong h, string s)
    {
        var bytes = MemoryMarshal.AsBytes(s.AsSpan());
        ref var p = ref MemoryMarshal.GetReference(bytes);
        var n = bytes.Length;
        var i = 0;
        for (; i + 16 <= n; i += 16)
            h = Mum(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)) ^ h ^ P0, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 8)) ^ P1);
        ulong a = 0, b = 0;
        var rest = n - i;
        if (rest >= 8)
        {
            a = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i));
            b = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, n - 8)); // overlaps a when rest < 16
        }
        else if (rest > 0)
        {
            // 2, 4 or 6 bytes (UTF-16): whole code units.
            for (var j = i; j < n; j++) a = (a << 8) | Unsafe.Add(ref p, j);
        }
        return Mum(a ^ h ^ P0, b ^ (ulong)n ^ P1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Fold(ulong h) => (int)(h ^ (h >> 32));

    public static int Of(string a, string b) => Fold(Add(Add(Seed, a), b));

    public static int Of(string a, string b, string c) => Fold(Add(Add(Add(Seed, a), b), c));
}

/// <summary>Ordinal equality of <see cref="SessionKey"/>s with <see cref="StateKeyHash"/>.</summary>
internal sealed class SessionKeyComparer : IEqualityComparer<SessionKey>
{
    public static readonly SessionKeyComparer Instance = new();

    public bool Equals(SessionKey x, SessionKey y) =>
        string.Equals(x.SessionId, y.SessionId) && string.Equals(x.UserKey, y.UserKey) && string.Equals(x.MiniProgramId, y.MiniProgramId);

    public int GetHashCode(SessionKey key) => StateKeyHash.Of(key.UserKey, key.MiniProgramId, key.SessionId);
}

/// <summary>Ordinal equality of <see cref="UserProgramKey"/>s with <see cref="StateKeyHash"/>.</summary>
internal sealed class UserProgramKeyComparer : IEqualityComparer<UserProgramKey>
{
    public static readonly UserProgramKeyComparer Instance = new();

    public bool Equals(UserProgramKey x, UserProgramKey y) => string.Equals(x.UserKey, y.UserKey) && string.Equals(x.MiniProgramId, y.MiniProgramId);

    public int GetHashCode(UserProgramKey key) => StateKeyHash.Of(key.UserKey, key.MiniProgramId);
}
