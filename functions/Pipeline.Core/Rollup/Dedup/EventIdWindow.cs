namespace Pipeline.Core.Rollup;

/// <summary>
/// One user shard's de-duplication window: for each event id (<see cref="EventIdHash"/>) whose copy the
/// shard's rollup counted in the last <see cref="Days"/> days, which copy it was (reporting day and
/// position in that day's compacted events) and on which day the rollup first counted it.
/// </summary>
/// <remarks>
/// A retry carries the same user, so every copy of an event lands in the same user shard: the shard
/// alone can tell a first copy from a duplicate, and processing writes nothing per event. Entries are
/// sorted by hash; 32 bytes each (see docs/rollup.md, "De-duplication", for the sizes at scale).
/// </remarks>
public sealed class EventIdWindow
{
    /// <summary>How long a counted id is remembered: the contract's "counts once … for 30 days".</summary>
    public const int Days = 30;

    /// <summary>A counted copy.</summary>
    /// <param name="Hash">The id's <see cref="EventIdHash"/>.</param>
    /// <param name="Day">The copy's reporting day (day number).</param>
    /// <param name="Position">The copy's position among the (day, shard)'s compacted events.</param>
    /// <param name="CountedOn">The day (day number) of the rollup run that first counted it.</param>
    public readonly record struct Entry(UInt128 Hash, int Day, long Position, int CountedOn);

    private readonly Entry[] _entries;

    private EventIdWindow(Entry[] sortedEntries) => _entries = sortedEntries;

    public static EventIdWindow Empty { get; } = new([]);

    /// <summary>Entries in hash order.</summary>
    public ReadOnlySpan<Entry> Entries => _entries;

    public int Count => _entries.Length;

    /// <summary>A window of these entries (sorted here; at most one per hash).</summary>
    /// <exception cref="ArgumentException">Two entries have the same hash.</exception>
    public static EventIdWindow Of(IEnumerable<Entry> entries)
    {
        var array = entries.ToArray();
        Array.Sort(array, static (a, b) => a.Hash.CompareTo(b.Hash));
        for (var i = 1; i < array.Length; i++)
            if (array[i].Hash == array[i - 1].Hash)
                throw new ArgumentException($"Two window entries have the hash {array[i].Hash:X32}.", nameof(entries));
        return new EventIdWindow(array);
    }

    internal static EventIdWindow FromSorted(Entry[] sortedEntries) => new(sortedEntries);

    /// <summary>The entry of <paramref name="hash"/>, if the window has one (expired or not).</summary>
    public bool TryFind(UInt128 hash, out Entry entry)
    {
        int lo = 0, hi = _entries.Length - 1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            var c = _entries[mid].Hash.CompareTo(hash);
            if (c == 0)
            {
                entry = _entries[mid];
                return true;
            }
            if (c < 0) lo = mid + 1;
            else hi = mid - 1;
        }
        entry = default;
        return false;
    }

    /// <summary>Whether an entry still makes other copies duplicates on <paramref name="today"/> (a day number).</summary>
    public static bool IsLive(in Entry entry, int today) => entry.CountedOn > today - Days;
}
