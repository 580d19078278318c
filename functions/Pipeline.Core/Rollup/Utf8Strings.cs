using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using System.Text;

namespace Pipeline.Core.Rollup;

/// <summary>
/// The strings of one shard-day, by their UTF-8 bytes: one small integer id per distinct value, the
/// <see cref="string"/> made only when asked for (and then once). Id 0 is the empty string.
/// </summary>
/// <remarks>
/// Ids follow the decoded string, not the bytes: an ill-formed UTF-8 sequence (which the block decoder
/// turns into U+FFFD) gets the id of its decoded form, so two sequences that decode to the same string
/// are one value, as they are for <see cref="Events.EventBlockCodec.Decode"/>.
/// </remarks>
internal sealed class Utf8Strings
{
    internal static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private const int InlineBytes = 48;

    [InlineArray(InlineBytes)]
    private struct Inline
    {
        private byte _first;
    }

    /// <summary>A 64-byte hash slot: the value's bytes are inline when they fit (most ids, user keys, sessions), so a lookup reads one slot.</summary>
    private struct Slot
    {
        public uint Hash;
        public int IdPlusOne; // 0: empty
        public int Offset, Length; // the bytes in the arena (always kept there too)
        public Inline Data;
    }

    private Slot[] _slots = new Slot[1024];
    private int _used;
    private byte[] _arena = new byte[16 * 1024];
    private int _arenaLength;
    private int[] _offsets = new int[256], _lengths = new int[256];
    private string?[] _strings = new string?[256];
    private int _count;

    public Utf8Strings() => Intern([]);

    /// <summary>Forgets every value, keeping the buffers (sized for about as many values again) for the next shard-day.</summary>
    public void Reset()
    {
        var want = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1024, _count * 2));
        if (_slots.Length > want * 2) _slots = new Slot[want];
        else Array.Clear(_slots);
        Array.Clear(_strings, 0, _count);
        _used = 0;
        _arenaLength = 0;
        _count = 0;
        Intern([]);
    }

    /// <summary>Distinct values so far (ids are 0 … Count-1).</summary>
    public int Count => _count;

    /// <summary>The id of a value given as UTF-8.</summary>
    public int Intern(ReadOnlySpan<byte> utf8) => Intern(utf8, Hash(utf8));

    /// <summary>
    /// The hash of a value, its table slot fetched into the cache ahead of <see cref="Intern(ReadOnlySpan{byte}, uint)"/>:
    /// hashing and fetching a block's whole dictionary first, then interning it, overlaps the slots' cache misses.
    /// </summary>
    public uint HashAndFetch(ReadOnlySpan<byte> utf8)
    {
        var hash = Hash(utf8);
        var slots = _slots;
        var i = (int)hash & (slots.Length - 1);
        // The slot and the next one: a lookup probes about two slots (64 bytes each) on average.
        CacheLines.Fetch(ref slots[i], Unsafe.SizeOf<Slot>() * (i + 1 < slots.Length ? 2 : 1));
        return hash;
    }

    /// <summary>The id of a value given as UTF-8 and its hash (from <see cref="HashAndFetch"/>).</summary>
    public int Intern(ReadOnlySpan<byte> utf8, uint hash)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        var i = (int)hash & mask;
        while (true)
        {
            ref var s = ref slots[i];
            if (s.IdPlusOne == 0) break;
            if (s.Hash == hash && s.Length == utf8.Length
                && (utf8.Length <= InlineBytes ? ((ReadOnlySpan<byte>)s.Data)[..utf8.Length] : _arena.AsSpan(s.Offset, s.Length)).SequenceEqual(utf8))
                return s.IdPlusOne - 1;
            i = (i + 1) & mask;
        }
        return Add(utf8, hash);
    }

    /// <summary>The value of an id (made once).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public string Get(int id) => _strings[id] ?? Make(id);

    /// <summary>Fetches what <see cref="Get"/> of <paramref name="id"/> reads first into the cache (a hint: see <see cref="CacheLines"/>).</summary>
    public void Fetch(int id)
    {
        CacheLines.Fetch(ref _strings[id]);
        CacheLines.Fetch(ref _offsets[id]);
        CacheLines.Fetch(ref _lengths[id]);
    }

    /// <summary>Fetches the characters of <paramref name="id"/>'s string into the cache when it is made already (a hint).</summary>
    public void FetchMade(int id)
    {
        if (_strings[id] is { Length: > 0 } s) CacheLines.Fetch(ref Unsafe.AsRef(in s.GetPinnableReference()), s.Length * sizeof(char));
    }

    /// <summary>The UTF-8 bytes of an id (well-formed).</summary>
    public ReadOnlySpan<byte> Bytes(int id) => _arena.AsSpan(_offsets[id], _lengths[id]);

    private string Make(int id) => _strings[id] = Utf8.GetString(Bytes(id));

    /// <summary>A quick multiplicative hash over 8-byte words (the table compares the bytes; the hash only spreads).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(ReadOnlySpan<byte> utf8)
    {
        const ulong K = 0x9E3779B97F4A7C15;
        var h = (ulong)utf8.Length * K;
        ref var start = ref MemoryMarshal.GetReference(utf8);
        var n = utf8.Length;
        var i = 0;
        for (; i + 8 <= n; i += 8)
        {
            h = (h ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i))) * K;
            h ^= h >> 29;
        }
        if (i < n)
        {
            ulong tail = 0;
            for (var j = n - 1; j >= i; j--) tail = (tail << 8) | Unsafe.Add(ref start, j);
            h = (h ^ tail) * K;
            h ^= h >> 29;
        }
        return (uint)(h ^ (h >> 32));
    }

    private int Add(ReadOnlySpan<byte> utf8, uint hash)
    {
        int id;
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
        {
            // Ill-formed: the id of the decoded (replaced) form; these bytes become an alias of it.
            var decoded = Utf8.GetString(utf8);
            id = Intern(Utf8.GetBytes(decoded));
        }
        else
        {
            id = _count++;
            if (id == _offsets.Length)
            {
                Array.Resize(ref _offsets, id * 2);
                Array.Resize(ref _lengths, id * 2);
                Array.Resize(ref _strings, id * 2);
            }
            _offsets[id] = _arenaLength; // the slot below points at the same bytes
            _lengths[id] = utf8.Length;
        }
        var offset = Append(utf8);
        var slot = new Slot { Hash = hash, IdPlusOne = id + 1, Offset = offset, Length = utf8.Length };
        if (utf8.Length <= InlineBytes) utf8.CopyTo(slot.Data);
        Insert(slot);
        return id;
    }

    private int Append(ReadOnlySpan<byte> utf8)
    {
        if (_arenaLength + utf8.Length > _arena.Length) Array.Resize(ref _arena, Math.Max(_arena.Length * 2, _arenaLength + utf8.Length));
        var offset = _arenaLength;
        utf8.CopyTo(_arena.AsSpan(offset));
        _arenaLength += utf8.Length;
        return offset;
    }

    private void Insert(in Slot slot)
    {
        if ((_used + 1) * 4 > _slots.Length * 3)
        {
            var old = _slots;
            _slots = new Slot[old.Length * 2];
            _used = 0;
            foreach (var s in old)
                if (s.IdPlusOne != 0) Place(s);
        }
        Place(slot);
    }

    private void Place(in Slot slot)
    {
        var mask = _slots.Length - 1;
        var i = (int)slot.Hash & mask;
        while (_slots[i].IdPlusOne != 0) i = (i + 1) & mask;
        _slots[i] = slot;
        _used++;
    }
}

/// <summary>
/// Ordinal (UTF-16 code unit) order of strings given as UTF-8. UTF-8 bytes order strings by code point,
/// which is the UTF-16 order except that UTF-16 puts the supplementary planes (surrogate pairs,
/// 0xD800-0xDFFF) before U+E000-U+FFFF; this compares the first differing code point accordingly.
/// </summary>
internal static class Utf16Order
{
    /// <summary>&lt; 0, 0 or &gt; 0 as <see cref="string.CompareOrdinal(string, string)"/> of the decoded strings.</summary>
    public static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        var i = a.CommonPrefixLength(b);
        if (i == a.Length || i == b.Length) return a.Length.CompareTo(b.Length);
        if (!System.Text.Unicode.Utf8.IsValid(a) || !System.Text.Unicode.Utf8.IsValid(b))
            return string.CompareOrdinal(Utf8Strings.Utf8.GetString(a), Utf8Strings.Utf8.GetString(b));
        if (a[i] < 0x80 || b[i] < 0x80) return a[i].CompareTo(b[i]); // an ASCII unit: below every other
        while (i > 0 && (a[i] & 0xC0) == 0x80) i--; // to the start of the (shared-prefix) code point
        System.Text.Rune.DecodeFromUtf8(a[i..], out var ra, out _);
        System.Text.Rune.DecodeFromUtf8(b[i..], out var rb, out _);
        return Key(ra.Value).CompareTo(Key(rb.Value));
    }

    /// <summary>True when (t1, id1) is before (t2, id2): earlier time, then ordinal event id.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Earlier(long t1, ReadOnlySpan<byte> id1, long t2, ReadOnlySpan<byte> id2) =>
        t1 < t2 || (t1 == t2 && Compare(id1, id2) < 0);

    // UTF-16 order of code points: below the surrogates as they are, the supplementary planes (as
    // surrogate pairs: by code point among themselves), then U+E000-U+FFFF above them.
    private static int Key(int codePoint) => codePoint is >= 0xE000 and <= 0xFFFF ? codePoint + 0x200000 : codePoint;
}

/// <summary>Event ids kept as UTF-8 in one growing buffer, each in a slot overwritten in place when the new id fits.</summary>
internal sealed class IdBytes
{
    private byte[] _bytes = new byte[64 * 1024];
    private int _length;

    /// <summary>Forgets every id, keeping the buffer.</summary>
    public void Reset() => _length = 0;

    public struct Ref
    {
        public int Offset, Length, Capacity;
    }

    public void Store(ref Ref r, ReadOnlySpan<byte> id)
    {
        if (id.Length > r.Capacity)
        {
            if (_length + id.Length > _bytes.Length) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + id.Length));
            r.Offset = _length;
            r.Capacity = id.Length;
            _length += id.Length;
        }
        id.CopyTo(_bytes.AsSpan(r.Offset));
        r.Length = id.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> Get(in Ref r) => _bytes.AsSpan(r.Offset, r.Length);

    public string String(in Ref r) => Utf8Strings.Utf8.GetString(Get(r));
}

/// <summary>An open-addressing hash map from non-negative long keys to ints: one probe of one array per lookup, no per-entry objects.</summary>
internal sealed class LongIntMap
{
    private struct Entry
    {
        public long Key;   // -1: empty
        public int Value;
    }

    private Entry[] _entries;
    private int _count;

    public LongIntMap(int capacity = 1024) => _entries = NewTable((int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, capacity * 2)));

    public int Count => _count;

    /// <summary>Removes every entry, keeping the table (or a smaller one when it was far larger than its last use needed).</summary>
    public void Reset()
    {
        var want = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, _count * 2));
        if (_entries.Length > want * 4) _entries = NewTable(want * 2);
        else _entries.AsSpan().Fill(new Entry { Key = -1 });
        _count = 0;
    }

    private static Entry[] NewTable(int size)
    {
        var t = GC.AllocateUninitializedArray<Entry>(size);
        t.AsSpan().Fill(new Entry { Key = -1 });
        return t;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Mix(long key) => (int)((ulong)(key * unchecked((long)0x9E3779B97F4A7C15)) >> 32);

    /// <summary>Makes room for <paramref name="count"/> entries in all.</summary>
    public void Reserve(int count)
    {
        while (count * 2 > _entries.Length) Grow();
    }

    /// <summary>The value of <paramref name="key"/>, or -1.</summary>
    public int Get(long key)
    {
        var entries = _entries;
        var mask = entries.Length - 1;
        var i = Mix(key) & mask;
        while (true)
        {
            ref var e = ref entries[i];
            if (e.Key == key) return e.Value;
            if (e.Key < 0) return -1;
            i = (i + 1) & mask;
        }
    }

    /// <summary>The value of <paramref name="key"/> (not negative); when absent, adds it with the value <paramref name="valueIfNew"/> and sets <paramref name="added"/>.</summary>
    public int GetOrAdd(long key, int valueIfNew, out bool added)
    {
        var entries = _entries;
        var mask = entries.Length - 1;
        var i = Mix(key) & mask;
        while (true)
        {
            ref var e = ref entries[i];
            if (e.Key == key)
            {
                added = false;
                return e.Value;
            }
            if (e.Key < 0)
            {
                added = true;
                e.Key = key;
                e.Value = valueIfNew;
                if (++_count * 2 > entries.Length) Grow();
                return valueIfNew;
            }
            i = (i + 1) & mask;
        }
    }

    /// <summary>Adds <paramref name="key"/> (as a set); false when it was there.</summary>
    public bool Add(long key)
    {
        GetOrAdd(key, 0, out var added);
        return added;
    }

    private void Grow()
    {
        var old = _entries;
        var entries = NewTable(old.Length * 2);
        var mask = entries.Length - 1;
        foreach (var e in old)
        {
            if (e.Key < 0) continue;
            var i = Mix(e.Key) & mask;
            while (entries[i].Key >= 0) i = (i + 1) & mask;
            entries[i] = e;
        }
        _entries = entries;
    }
}
