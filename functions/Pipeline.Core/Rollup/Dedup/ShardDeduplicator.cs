using System.Runtime.InteropServices;
using Pipeline.Core.Events;

namespace Pipeline.Core.Rollup;

/// <summary>One (day, shard) as <see cref="ShardDeduplicator.Scan"/> found it.</summary>
/// <param name="Day">The reporting day.</param>
/// <param name="Events">Events scanned (positions 0 to Events − 1): the roll counts only these, so an event folded in after the scan waits for the next run.</param>
/// <param name="Previous">The day's duplicates found by earlier runs.</param>
/// <param name="Drops">Copies found to be duplicates by the scan itself (another copy is counted in the window).</param>
/// <param name="Candidates">Copies that count unless an earlier-received copy of the same id is among the run's candidates.</param>
public sealed record DayScan(DateOnly Day, long Events, DuplicateCopies Previous, IReadOnlyList<long> Drops, IReadOnlyList<DedupCandidate> Candidates);

/// <summary>A copy not yet decided: its id's hash, when its batch was received, where it is.</summary>
public readonly record struct DedupCandidate(UInt128 Hash, long ReceivedMs, int Day, long Position);

/// <summary>What de-duplicating a shard's days of a run decided.</summary>
/// <param name="Dropped">Per day: every duplicate copy (found before and now).</param>
/// <param name="NewlyDropped">Per day: how many copies this run found to be duplicates (0: nothing to save).</param>
/// <param name="Window">The shard's window after the run: expired entries pruned, newly counted ids added.</param>
/// <param name="WindowChanged">Whether <see cref="Window"/> differs from the window given (it needs saving).</param>
public sealed record DedupDecision(IReadOnlyDictionary<DateOnly, DuplicateCopies> Dropped, IReadOnlyDictionary<DateOnly, int> NewlyDropped, EventIdWindow Window, bool WindowChanged);

/// <summary>
/// Decides which copies of a shard's events count: the contract's "the same <c>eventId</c> from the same
/// source counts once, however often it is sent, for 30 days", with the first copy received counting,
/// decided in the user's shard (every copy of an event carries the same user).
/// </summary>
/// <remarks>
/// <para>Copies are named by (reporting day, position among the (day, shard)'s compacted events); a
/// position never changes (a compaction keeps the events before it and appends). A run first scans every
/// day it rolls (<see cref="Scan"/>), then decides them together (<see cref="Decide"/>), so that a retry
/// stamped across midnight onto an earlier day does not beat the first copy received. A copy counts unless:</para>
/// <list type="bullet">
/// <item>an earlier run dropped it (<see cref="DuplicateCopies"/>: once dropped, always dropped);</item>
/// <item>the window holds a live entry for its id that is another copy (counted by an earlier run);</item>
/// <item>another new copy of its id among the run's days was received earlier (ties: the earlier day, then
/// the earlier position).</item>
/// </list>
/// <para>A copy recognises its own window entry, so rolling a day again keeps what it kept. The decision is a
/// pure function of the blocks, the window, the earlier drops and the run's day: a redelivered or resumed
/// shard message decides the same. Memory: the window, plus 40 bytes per copy not yet counted (a nightly
/// run's new events; a re-roll of old days adds none).</para>
/// </remarks>
public static class ShardDeduplicator
{
    /// <summary>Scans one (day, shard)'s compacted blocks against the window.</summary>
    /// <param name="today">The run's day (its creation date), which ages the window.</param>
    /// <param name="expectedEvents">The blocks' events, when known (the compacted file's count): a capacity hint only.</param>
    public static DayScan Scan(DateOnly day, IEnumerable<ReadOnlyMemory<byte>> blocks, EventIdWindow window, DuplicateCopies previous, DateOnly today, long expectedEvents = 0)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(previous);
        var d = day.DayNumber;
        var t = today.DayNumber;
        var drops = new List<long>();
        // Sized up front when the caller knows the day's events: at hundreds of thousands of events a shard-day, a
        // list grown by doubling allocates about twice what it keeps, on the large-object heap.
        var candidates = new List<DedupCandidate>((int)Math.Clamp(expectedEvents, 0, Array.MaxLength));
        var skip = previous.Positions;
        var nextSkip = 0;
        long position = 0;
        var offsets = new int[64];
        var lengths = new int[64];
        foreach (var block in blocks)
        {
            var reader = EventBlockCodec.Open(block.Span);
            if (offsets.Length < reader.StringCount)
            {
                offsets = new int[reader.StringCount];
                lengths = new int[reader.StringCount];
            }
            for (var i = 0; i < reader.StringCount; i++) offsets[i] = reader.NextString(out lengths[i]);
            var payload = reader.Payload;
            var e = new BlockEvent();
            while (reader.TryReadEvent(ref e))
            {
                var p = position++;
                if (nextSkip < skip.Length && skip[nextSkip] == p)
                {
                    nextSkip++;
                    continue;
                }
                var source = e.Source < 0 ? default : payload.Slice(offsets[e.Source], lengths[e.Source]);
                var hash = EventIdHash.Of(source, e.EventIdUtf8);
                if (window.TryFind(hash, out var entry) && EventIdWindow.IsLive(entry, t))
                {
                    // Counted by an earlier run: only that very copy counts again.
                    if (entry.Day != d || entry.Position != p) drops.Add(p);
                }
                else candidates.Add(new DedupCandidate(hash, e.ReceivedMs, d, p));
            }
        }
        return new DayScan(day, position, previous, drops, candidates);
    }

    /// <summary>Decides the run's days of one shard together: of the new copies of an id, the first received counts.</summary>
    public static DedupDecision Decide(IReadOnlyList<DayScan> days, EventIdWindow window, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(days);
        ArgumentNullException.ThrowIfNull(window);
        var t = today.DayNumber;
        var drops = days.ToDictionary(s => s.Day.DayNumber, s => new List<long>(s.Drops));

        // One day (the nightly run): its scan's own list, sorted in place (the decision does not depend on the
        // candidates' order); several: one array of the exact size. No copy grown by doubling.
        var candidates = days.Count == 1 && days[0].Candidates is List<DedupCandidate> only
            ? CollectionsMarshal.AsSpan(only)
            : Concat(days);
        candidates.Sort(static (a, b) =>
        {
            var c = a.Hash.CompareTo(b.Hash);
            if (c != 0) return c;
            c = a.ReceivedMs.CompareTo(b.ReceivedMs);
            if (c != 0) return c;
            c = a.Day.CompareTo(b.Day);
            return c != 0 ? c : a.Position.CompareTo(b.Position);
        });
        var added = new List<EventIdWindow.Entry>(candidates.Length);
        for (var i = 0; i < candidates.Length;)
        {
            var first = candidates[i];
            var end = i + 1;
            for (; end < candidates.Length && candidates[end].Hash == first.Hash; end++)
                drops[candidates[end].Day].Add(candidates[end].Position);
            // A copy whose own entry has expired counts again without renewing it (its window has passed).
            var ownExpiredEntry = window.TryFind(first.Hash, out var old) && old.Day == first.Day && old.Position == first.Position;
            if (!ownExpiredEntry) added.Add(new EventIdWindow.Entry(first.Hash, first.Day, first.Position, t));
            i = end;
        }

        var (next, changed) = Merge(window, added, t);
        var dropped = new Dictionary<DateOnly, DuplicateCopies>();
        var newly = new Dictionary<DateOnly, int>();
        foreach (var s in days)
        {
            var found = drops[s.Day.DayNumber];
            newly[s.Day] = found.Count;
            dropped[s.Day] = found.Count == 0 ? s.Previous : DuplicateCopies.Of(s.Previous.Positions.ToArray().Concat(found));
        }
        return new DedupDecision(dropped, newly, next, changed);
    }

    private static Span<DedupCandidate> Concat(IReadOnlyList<DayScan> days)
    {
        var all = new DedupCandidate[days.Sum(s => s.Candidates.Count)];
        var at = 0;
        foreach (var s in days)
            foreach (var c in s.Candidates) all[at++] = c;
        return all;
    }

    /// <summary>The live entries of <paramref name="window"/> and the <paramref name="added"/> ones (in hash order, none live before), in hash order.</summary>
    private static (EventIdWindow Window, bool Changed) Merge(EventIdWindow window, List<EventIdWindow.Entry> added, int today)
    {
        var old = window.Entries;
        var live = 0;
        foreach (ref readonly var e in old)
            if (EventIdWindow.IsLive(e, today)) live++;
        if (added.Count == 0 && live == old.Length) return (window, false);

        var merged = new EventIdWindow.Entry[live + added.Count];
        int i = 0, j = 0, m = 0;
        while (i < old.Length || j < added.Count)
        {
            if (i < old.Length && !EventIdWindow.IsLive(old[i], today))
            {
                i++;
                continue;
            }
            if (j >= added.Count || (i < old.Length && old[i].Hash < added[j].Hash)) merged[m++] = old[i++];
            else if (i < old.Length && old[i].Hash == added[j].Hash)
                throw new InvalidOperationException($"The window already has a live entry for {added[j].Hash:X32}.");
            else merged[m++] = added[j++];
        }
        return (EventIdWindow.FromSorted(merged), true);
    }
}
