using System.Buffers.Text;
using System.Security.Cryptography;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Ingest;

/// <summary>
/// Ingest keys: <c>mpk_&lt;keyId&gt;_&lt;secret&gt;</c>, where <c>keyId</c> is 12 lowercase hex
/// characters (6 random bytes; public, the look-up key) and <c>secret</c> is 32 random bytes in
/// base64url without padding (43 characters, which may themselves contain <c>_</c> or <c>-</c>).
/// Only SHA-256 of the secret's 32 bytes is stored; verification compares hashes in constant time.
/// Read keys (<see cref="ApiKeyKind.Read"/>, for the query API) have the same shape with the prefix
/// <c>mrk_</c>, so that neither kind can be mistaken for the other, by people or by the endpoints.
/// </summary>
public static class IngestKeys
{
    public const string Prefix = "mpk_";
    public const string ReadPrefix = "mrk_";
    public const int KeyIdLength = 12;
    public const int SecretBytes = 32;
    public const int SecretLength = 43;

    /// <summary>Length of a whole key: prefix, key id, separator, secret.</summary>
    public const int KeyLength = 4 + KeyIdLength + 1 + SecretLength;

    /// <summary>Creates a key for <paramref name="source"/> (a source, or for a read key a reader). The plaintext is shown once to its owner and never stored.</summary>
    public static (string Plaintext, IngestKeyRecord Record) Create(string source, DateTimeOffset now, ApiKeyKind kind = ApiKeyKind.Ingest)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        Span<byte> id = stackalloc byte[KeyIdLength / 2];
        RandomNumberGenerator.Fill(id);
        var keyId = Convert.ToHexStringLower(id);

        Span<byte> secret = stackalloc byte[SecretBytes];
        RandomNumberGenerator.Fill(secret);
        var plaintext = PrefixOf(kind) + keyId + "_" + Base64Url.EncodeToString(secret);
        var hash = SHA256.HashData(secret);
        CryptographicOperations.ZeroMemory(secret);
        return (plaintext, new IngestKeyRecord(keyId, source, hash, now, null, null, kind));
    }

    public static string PrefixOf(ApiKeyKind kind) => kind == ApiKeyKind.Read ? ReadPrefix : Prefix;

    /// <summary>Splits an ingest key (<c>X-Api-Key</c>) into key id and secret; false when it does not have the ingest key format.</summary>
    public static bool TryParse(string? header, out string keyId, out string secret) => TryParse(header, ApiKeyKind.Ingest, out keyId, out secret);

    /// <summary>The kind of key <paramref name="header"/> looks like, by its prefix; null when neither.</summary>
    public static ApiKeyKind? KindOf(string? header)
    {
        var value = (header ?? "").AsSpan().Trim();
        if (value.StartsWith(Prefix, StringComparison.Ordinal)) return ApiKeyKind.Ingest;
        if (value.StartsWith(ReadPrefix, StringComparison.Ordinal)) return ApiKeyKind.Read;
        return null;
    }

    /// <summary>Splits a key of <paramref name="kind"/> into key id and secret; false when it does not have that kind's format.</summary>
    public static bool TryParse(string? header, ApiKeyKind kind, out string keyId, out string secret)
    {
        keyId = "";
        secret = "";
        if (header is null) return false;
        var value = header.AsSpan().Trim();
        if (value.Length != KeyLength || !value.StartsWith(PrefixOf(kind), StringComparison.Ordinal)) return false;
        var id = value.Slice(Prefix.Length, KeyIdLength);
        if (value[Prefix.Length + KeyIdLength] != '_') return false;
        var secretText = value[(Prefix.Length + KeyIdLength + 1)..];
        foreach (var c in id)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f')) return false;
        }
        // 43 base64url characters encode 32 bytes (the last one carries 2 spare bits, which must be zero to be canonical).
        Span<byte> decoded = stackalloc byte[SecretBytes];
        if (!TryDecodeSecret(secretText, decoded)) return false;
        if (!secretText.SequenceEqual(Base64Url.EncodeToString(decoded))) return false;
        keyId = id.ToString();
        secret = secretText.ToString();
        return true;
    }

    /// <summary>
    /// Checks <paramref name="secret"/> against the record first, in constant time, and only then the key's
    /// state: so <see cref="IngestKeyStatus.Revoked"/> and <see cref="IngestKeyStatus.Expired"/> are told
    /// only to whoever holds the secret, and anyone else learns nothing but <see cref="IngestKeyStatus.WrongSecret"/>.
    /// A key with <c>RevokedAt &lt;= now</c> is revoked; one with <c>ExpiresAt &lt;= now</c> is expired
    /// (revocation wins when both hold).
    /// </summary>
    public static IngestKeyStatus Check(IngestKeyRecord record, string secret, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(record);
        Span<byte> decoded = stackalloc byte[SecretBytes];
        if (secret is null || !TryDecodeSecret(secret, decoded)) return IngestKeyStatus.WrongSecret;
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(decoded, hash);
        CryptographicOperations.ZeroMemory(decoded);
        if (!CryptographicOperations.FixedTimeEquals(hash, record.SecretHash)) return IngestKeyStatus.WrongSecret;
        if (record.RevokedAt is { } revokedAt && revokedAt <= now) return IngestKeyStatus.Revoked;
        if (record.ExpiresAt is { } expiresAt && expiresAt <= now) return IngestKeyStatus.Expired;
        return IngestKeyStatus.Valid;
    }

    /// <summary>Decodes a 43-character base64url secret into 32 bytes; false (never an exception) for anything else.</summary>
    private static bool TryDecodeSecret(ReadOnlySpan<char> text, Span<byte> secret)
    {
        if (text.Length != SecretLength) return false;
        foreach (var c in text)
        {
            // The decoder throws on characters outside the alphabet, so they are refused first.
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_')) return false;
        }
        Span<byte> decoded = stackalloc byte[SecretBytes + 2];
        int written;
        try
        {
            if (!Base64Url.TryDecodeFromChars(text, decoded, out written)) return false;
        }
        catch (FormatException)
        {
            return false; // for example non-zero spare bits in the last character
        }
        if (written != SecretBytes) return false;
        decoded[..SecretBytes].CopyTo(secret);
        CryptographicOperations.ZeroMemory(decoded);
        return true;
    }
}

/// <summary>What a key is for: sending events (<c>mpk_</c>) or reading metrics (<c>mrk_</c>). A key does one, never both.</summary>
public enum ApiKeyKind
{
    Ingest,
    Read,
}

/// <summary>What <see cref="IngestKeys.Check"/> found.</summary>
public enum IngestKeyStatus
{
    Valid,
    /// <summary>The secret does not match (or is not a secret at all).</summary>
    WrongSecret,
    /// <summary>The right secret of a key revoked by <c>keys revoke</c>.</summary>
    Revoked,
    /// <summary>The right secret of a key whose rotation overlap has ended.</summary>
    Expired,
}
