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
public sealed class UserPseudonymizer
{
    /// <summary>Length of every pseudonym: 32 bytes of HMAC in base64url without padding.</summary>
    public const int PseudonymLength = 43;

    private const int StackLimit = 512;
    private readonly byte[] _key;

    public UserPseudonymizer(PipelineOptions options)
        : this((options ?? throw new ArgumentNullException(nameof(options))).PseudonymisationKey)
    {
    }

    public UserPseudonymizer(string key)
    {
        if (string.IsNullOrEmpty(key))
            throw new ArgumentException("The pseudonymisation key is empty; set Pipeline:PseudonymisationKey.", nameof(key));
        _key = Encoding.UTF8.GetBytes(key);
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
        HMACSHA256.HashData(_key, utf8UserId, hash);
        return Base64Url.EncodeToString(hash);
    }
}
