using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Core.Ingest;

/// <summary>
/// Replaces a <c>userId</c> by its keyed hash: HMAC-SHA-256, keyed with the UTF-8 bytes of
/// <see cref="PipelineOptions.PseudonymisationKey"/>, over the UTF-8 bytes of the <c>userId</c>,
/// written as base64url without padding (43 characters). Deterministic for one key, so a user's
/// events still join up; without the key the pseudonym cannot be reversed or recomputed.
/// Thread-safe; allocates only the result string.
/// </summary>
/// <remarks>
/// Each thread keeps its own keyed HMAC state (<see cref="IncrementalHash"/>, reset after every
/// hash) instead of calling the one-shot <see cref="HMACSHA256.HashData(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/>:
/// on Linux the one-shot sets up the MAC and its key in OpenSSL on every call, which costs more
/// than hashing a 30-byte id and contends between threads. The hash is the same HMAC-SHA-256.
/// </remarks>
public sealed class UserPseudonymizer
{
    private const int StackLimit = 512;
    private readonly byte[] _key;
    private readonly ThreadLocal<IncrementalHash> _hmac;

    public UserPseudonymizer(PipelineOptions options)
        : this((options ?? throw new ArgumentNullException(nameof(options))).PseudonymisationKey)
    {
    }

    public UserPseudonymizer(string key)
    {
        if (string.IsNullOrEmpty(key))
            throw new ArgumentException("The pseudonymisation key is empty; set Pipeline:PseudonymisationKey.", nameof(key));
        _key = Encoding.UTF8.GetBytes(key);
        var keyBytes = _key;
        _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, keyBytes));
    }

    public string Pseudonymize(string userId)
    {
        ArgumentNullException.ThrowIfNull(userId);
        var max = Encoding.UTF8.GetMaxByteCount(userId.Length);
        byte[]? rented = null;
        var utf8 = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var written = Encoding.UTF8.GetBytes(userId, utf8);
            return Pseudonymize(utf8[..written]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Pseudonym of a <c>userId</c> given as UTF-8 bytes.</summary>
    public string Pseudonymize(ReadOnlySpan<byte> utf8UserId)
    {
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var hmac = _hmac.Value!;
        hmac.AppendData(utf8UserId);
        hmac.GetHashAndReset(hash);
        return Base64Url.EncodeToString(hash);
    }
}
