using System.IO.Hashing;

namespace Pipeline.Core.Rollup;

/// <summary>
/// The de-duplication key of an event, (source, <c>eventId</c>), as a 128-bit XxHash of their UTF-8
/// bytes with a zero byte between them (neither may contain one).
/// </summary>
/// <remarks>
/// 128 bits so that a collision never drops a real event: a shard's window holds at most a few
/// hundred million ids, and the chance that two of n ids share a 128-bit hash is about n²/2¹²⁹
/// (10⁻²¹ at n = 10⁹). A 64-bit hash would not do (n²/2⁶⁵: one lost event a month at 10⁹ ids).
/// XxHash128 (System.IO.Hashing) rather than a cryptographic hash: the ids are not secrets and the
/// hash runs once per event read by the rollup.
/// </remarks>
public static class EventIdHash
{
    private static ReadOnlySpan<byte> Separator => [0];

    public static UInt128 Of(ReadOnlySpan<byte> sourceUtf8, ReadOnlySpan<byte> eventIdUtf8)
    {
        var hash = new XxHash128();
        hash.Append(sourceUtf8);
        hash.Append(Separator);
        hash.Append(eventIdUtf8);
        return hash.GetCurrentHashAsUInt128();
    }

    public static UInt128 Of(string? source, string eventId) =>
        Of(System.Text.Encoding.UTF8.GetBytes(source ?? ""), System.Text.Encoding.UTF8.GetBytes(eventId));
}
