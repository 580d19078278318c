using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Pipeline.Core.Events;
using Pipeline.Core.Scenes;

namespace Pipeline.Core.Rollup;

/// <summary>
/// One user shard's day straight from the event store's blocks (<see cref="EventBlockReader"/>): the same
/// aggregation as <see cref="ShardDayRoller.Roll"/>, with the same partial and delta, but without a
/// <see cref="PipelineEvent"/> per event or a list of the day.
/// </summary>
/// <remarks>
/// <para>Every string of the shard-day gets a small id (<see cref="Utf8Strings"/>, from its UTF-8 bytes;
/// each block's dictionary is mapped to those ids when the block is opened). Users, sessions,
/// mini-programs, pages and currencies are then integers; counters are arrays addressed by a typed
/// metric slot (<see cref="Slot"/>) and a dimension value index, turned into the string-keyed
/// <see cref="DayAggregate"/> once, per distinct counter, at the end. Strings are made per distinct
/// value; event ids are kept as UTF-8 bytes where a tie-break needs them (earliest <c>session_start</c>
/// and first and last <c>page_view</c> per session) and compared in ordinal UTF-16 order
/// (<see cref="Utf16Order"/>), and made into strings only where one is kept (a new session's start,
/// order candidates, publishes).</para>
/// <para>Memory grows with the shard-day's distinct strings, users, sessions, pages and counters, not
/// with its events.</para>
/// </remarks>
internal sealed class BlockShardRoller
{
    // ---- typed counter slots: (metric or internal quantity, dimension) ----
    private enum Dim : byte
    {
        Total, MiniProgram, Page, Currency, Channel, Source, Platform, DurationBucket, DepthBucket,
        // (mini-program, value) pairs, indexed by their PairDimension: <miniProgramId>/<value>.
        MiniProgramChannel, MiniProgramSource, MiniProgramPlatform, MiniProgramDuration, MiniProgramDepth, MiniProgramReferrer,
    }

    private static readonly (string Metric, Dim Dim)[] Slots =
    [
        (ShardDayRoller.SessionEnds, Dim.Total), (ShardDayRoller.SessionEnds, Dim.MiniProgram),
        (ShardDayRoller.DurationMs, Dim.Total), (ShardDayRoller.DurationMs, Dim.MiniProgram),
        ("users.sessions_by_duration", Dim.DurationBucket),
        ("users.page_views", Dim.Total), ("users.page_views", Dim.MiniProgram),
        ("pages.views", Dim.Page), ("pages.visitors", Dim.Page), (ShardDayRoller.StayMs, Dim.Page), (ShardDayRoller.StayCount, Dim.Page),
        ("users.shares", Dim.Total), ("users.shares", Dim.MiniProgram), ("pages.shares", Dim.Page),
        ("businesses.refunds", Dim.Currency),
        ("platform.ad_impressions", Dim.Total), ("platform.ad_impressions", Dim.MiniProgram),
        ("platform.ad_revenue", Dim.Currency), (ShardDayRoller.MoneyCurrency, Dim.Currency),
        ("platform.ad_clicks", Dim.Total), ("platform.ad_clicks", Dim.MiniProgram),
        (ShardDayRoller.Complaints, Dim.Total), (ShardDayRoller.Complaints, Dim.MiniProgram),
        (ShardDayRoller.PermissionDenials, Dim.Total),
        ("users.sessions", Dim.Total), ("users.sessions", Dim.MiniProgram), ("users.sessions", Dim.Channel),
        ("users.sessions", Dim.Source), ("users.sessions", Dim.Platform),
        (ShardDayRoller.ShareSessions, Dim.Total), (ShardDayRoller.ShareSessions, Dim.MiniProgram), (ShardDayRoller.QrSessions, Dim.Total),
        ("users.dau", Dim.Channel), ("users.dau", Dim.Platform),
        ("users.sessions_by_depth", Dim.DepthBucket), ("pages.entries", Dim.Page), ("pages.exits", Dim.Page),
        (ShardDayRoller.ErrorSessions, Dim.Total), (ShardDayRoller.ErrorSessions, Dim.MiniProgram),
        (ShardDayRoller.CrashSessions, Dim.Total), (ShardDayRoller.CrashSessions, Dim.MiniProgram),
        ("users.dau", Dim.Total), ("users.returning_90d", Dim.Total), ("users.new", Dim.Total), ("users.viral_new_users", Dim.Total),
        (ShardDayRoller.ProgramPairs, Dim.Total), ("users.dau", Dim.MiniProgram), ("users.new", Dim.MiniProgram), ("users.viral_new_users", Dim.MiniProgram),
        ("users.sharers", Dim.Total), ("users.sharers", Dim.MiniProgram),
        ("northstar.engaged_users", Dim.Total), ("northstar.engaged_users", Dim.MiniProgram),
        ("users.sessions", Dim.MiniProgramChannel), ("users.sessions", Dim.MiniProgramSource), ("users.sessions", Dim.MiniProgramPlatform),
        ("users.sessions_by_duration", Dim.MiniProgramDuration), ("users.sessions_by_depth", Dim.MiniProgramDepth),
        ("users.referred_sessions", Dim.Total), ("users.referred_sessions", Dim.MiniProgramReferrer),
        ("pages.sharers", Dim.Page), ("users.new", Dim.Channel),
    ];

    /// <summary>Indexes into <see cref="Slots"/> (T: total, M: per mini-program, P: per page, C: per currency).</summary>
    private enum Slot
    {
        TSessionEnds, MSessionEnds, TDurationMs, MDurationMs, SessionsByDuration,
        TPageViews, MPageViews, PViews, PVisitors, PStayMs, PStayCount,
        TShares, MShares, PShares,
        CRefunds,
        TAdImpressions, MAdImpressions, CAdRevenue, CMoneyCurrency, TAdClicks, MAdClicks,
        TComplaints, MComplaints, TPermissionDenials,
        TSessions, MSessions, ChannelSessions, SourceSessions, PlatformSessions,
        TShareSessions, MShareSessions, TQrSessions,
        ChannelDau, PlatformDau,
        SessionsByDepth, PEntries, PExits,
        TErrorSessions, MErrorSessions, TCrashSessions, MCrashSessions,
        TDau, TReturning, TNew, TViral, TProgramPairs, MDau, MNew, MViral,
        TSharers, MSharers, TEngaged, MEngaged,
        ProgramChannelSessions, ProgramSourceSessions, ProgramPlatformSessions,
        ProgramSessionsByDuration, ProgramSessionsByDepth,
        TReferredSessions, ReferrerSessions,
        PSharers, ChannelNew,
        Count,
    }

    static BlockShardRoller()
    {
        if (Slots.Length != (int)Slot.Count) throw new InvalidOperationException("BlockShardRoller: slot table and Slot enum differ.");
    }

    private readonly long[][] _values = new long[(int)Slot.Count][];
    private readonly bool[][] _touched = new bool[(int)Slot.Count][];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Add(Slot slot, int index, long amount)
    {
        var values = _values[(int)slot];
        if ((uint)index >= (uint)values.Length) values = Grow(slot, index);
        values[index] += amount;
        _touched[(int)slot][index] = true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddTotal(Slot slot, long amount) => Add(slot, 0, amount);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private long[] Grow(Slot slot, int index)
    {
        var size = Math.Max(index + 1, _values[(int)slot].Length * 2);
        Array.Resize(ref _values[(int)slot], size);
        Array.Resize(ref _touched[(int)slot], size);
        return _values[(int)slot];
    }

    // ---- the shard-day's values ----
    private readonly Utf8Strings _strings = new();
    private readonly IdBytes _ids = new();

    /// <summary>Per string id: its roles (as a mini-program, a currency, a user).</summary>
    private struct IdInfo
    {
        public int MiniProgram; // dense index + 1; 0: not yet
        public int Pair;        // as a user: the index + 1 of its newest (user, mini-program) pair, the head of its chain of pairs
        public long DurationMs; // as a user: session_end durations
        public int FirstSession; // as a user: session index + 1 of the earliest new session on D
        public int Session;     // as a session id: the index + 1 of the last session seen with it
        public bool Sharer, Listed;
        public bool SharedSessionId; // as a session id: more than one session has it (all of them are in _sessionIndex)
        public byte Platforms;  // as a user: bit p set when a new session on D had platform index p (0 … Platform.Other)
        public uint Channels;   // as a user: bit c set when a new session on D had channel index c < 32 (higher ones: _userChannels)
    }

    private IdInfo[] _info = new IdInfo[1024];
    private readonly List<int> _programs = [];   // mini-program index -> string id
    private readonly List<int> _currencies = []; // currency index -> string id
    private readonly LongIntMap _currencyIndex = new(16); // currency string id -> currency index (a map: IdInfo stays 32 bytes)
    private readonly List<int> _users = [];      // users with a share or a session_end (engaged candidates), string ids

    private readonly LongIntMap _pageByPair = new(256);                     // (mini-program index, page string id) -> page index
    private readonly Dictionary<string, int> _pageByValue = new(StringComparer.Ordinal); // concatenated page value -> page index
    private readonly List<string> _pages = [];
    private readonly LongSet _pageVisitors = new(4096);                     // (user id, page index)
    // page_view visits not yet looked up in _pageVisitors: see AddVisit.
    private readonly long[] _visits = new long[VisitBatch];
    private int _visitCount;
    private const int VisitBatch = 1024;
    private readonly LongSet _pageSharers = new(256);                       // (user id, page index)
    private CustomEventTally _custom = new();

    /// <summary>The (mini-program index, value index) pairs of one <c>miniProgram.*</c> dimension, densely numbered.</summary>
    private sealed class PairDimension
    {
        private readonly LongIntMap _index = new(256);
        public readonly List<long> Pairs = [];

        public int IndexOf(int program, int value)
        {
            var key = ((long)program << 32) | (uint)value;
            var index = _index.GetOrAdd(key, Pairs.Count, out var added);
            if (added) Pairs.Add(key);
            return index;
        }

        public (int Program, int Value) At(int index) => ((int)(Pairs[index] >> 32), (int)Pairs[index]);

        public void Reset()
        {
            _index.Reset();
            Pairs.Clear();
        }
    }

    // Values: channel, source and platform indexes of Finish; duration and depth bucket indexes; referrer string ids.
    private readonly PairDimension _programChannels = new(), _programSources = new(), _programPlatforms = new(),
        _programDurations = new(), _programDepths = new(), _programReferrers = new();
    private readonly LongIntMap _userChannels = new(16); // (user id, channel index) for channel indexes from 32 on (a scene table with that many channels), in Finish

    private struct Pair
    {
        public int User, Program;
        public long DurationMs;
        public int FirstSession; // session index + 1
        public int Previous;     // the user's pair made before this one: index + 1; 0: none (its first)
        public int Depth;        // the user's pairs up to this one (1 for its first)
        public bool Sharer;
    }

    /// <summary>Pairs of a user found by walking its chain at most; a user with more has all of them in <see cref="_pairIndex"/> too.</summary>
    private const int PairWalk = 4;

    private readonly LongIntMap _pairIndex = new(1024); // (user id, mini-program index) -> pair index, for users with more than PairWalk pairs
    private Pair[] _pairs = new Pair[1024];
    private int _pairCount;

    private struct Session
    {
        public int User, Program, SessionId;
        public bool HasStart, HasActivity, HasError, HasCrash, NewToday;
        public long StartTime;
        public IdBytes.Ref StartId;
        public int Scene;
        public Platform Platform;
        public int PageViews;
        public long FirstTime, LastTime;
        public IdBytes.Ref FirstId, LastId;
        public int FirstPage, LastPage;
        public int Channel; // channel index, for new sessions
        public int Referrer; // string id of referrerMiniProgramId on the earliest start; -1: none
    }

    private readonly record struct SessionIds(int User, int Program, int SessionId);

    // Only the sessions whose session id string is shared with another session (rare): a session id
    // string of one session finds it through IdInfo.Session alone, without hashing.
    private readonly Dictionary<SessionIds, int> _sessionIndex = new();
    private Session[] _sessions = new Session[1024];
    private int _sessionCount;
    private readonly List<int> _started = []; // sessions in order of their first session_start

    private readonly List<long> _loadTotal = [];
    private readonly List<List<long>?> _loadByProgram = [];

    private readonly Dictionary<OrderKey, (OrderCandidate Candidate, int User, int Program, int SessionId)> _orders = new();

    private ShardPartial _partial;
    private WindowState _previous;
    private WindowState? _into; // the new state the day's users, pairs and sessions go into, or null: into _delta
    private ShardDelta? _delta;
    private SceneTable _scenes;
    private int _day;

    // Per block: dictionary index -> string id.
    private int[] _local = new int[256];

    private BlockShardRoller(WindowState previous, SceneTable scenes, int day)
    {
        for (var i = 0; i < _values.Length; i++)
        {
            _values[i] = new long[Slots[i].Dim == Dim.Total ? 1 : 16];
            _touched[i] = new bool[_values[i].Length];
        }
        _previous = previous;
        _scenes = scenes;
        _day = day;
        _partial = new ShardPartial { Day = day };
    }

    /// <summary>
    /// Rollers of finished shard-days, kept with their buffers (tables sized for about that shard-day) so that the
    /// next roll reuses them instead of allocating and faulting in fresh memory; not kept when a roll fails. At
    /// most one per processor (<see cref="MaxSpares"/>): a process rolls about that many shard-days at once. (A
    /// spare per thread, as this was, kept one for every thread-pool thread that ever rolled: under an async host
    /// that is many threads, each holding tables sized for a shard-day, which grew a 10,000,000-event day's
    /// rollup process to 3.4 GiB.)
    /// </summary>
    private static readonly ConcurrentBag<BlockShardRoller> Spares = [];

    private static int s_spares;

    /// <summary>Spare rollers kept at most: one per processor.</summary>
    public static int MaxSpares { get; } = Environment.ProcessorCount;

    /// <summary>Spare rollers kept now (for tests).</summary>
    internal static int SpareCount => Volatile.Read(ref s_spares);

    private static BlockShardRoller? TakeSpare()
    {
        if (!Spares.TryTake(out var roller)) return null;
        Interlocked.Decrement(ref s_spares);
        return roller;
    }

    private static void KeepSpare(BlockShardRoller roller)
    {
        if (Interlocked.Increment(ref s_spares) <= MaxSpares) Spares.Add(roller);
        else Interlocked.Decrement(ref s_spares); // enough kept: this one is left to the collector
    }

    /// <summary>Aggregates one shard's blocks of <paramref name="day"/> in one pass.</summary>
    /// <param name="skip">Positions (among all the blocks' events, ascending) of the copies not to count: duplicates.</param>
    /// <param name="limit">Events counted at most: those at positions from <paramref name="limit"/> on are read but not counted.</param>
    /// <param name="into">The new state (a copy of <paramref name="previous"/>, not the same object): when given, the day's
    /// users, (user, mini-program) pairs and sessions are set in it as they are made, as applying the delta would set
    /// them, and the delta returned is empty. That saves the delta's lists (about 14 MB of large-object garbage per
    /// 1,000,000 events) and a second pass over them.</param>
    public static (ShardPartial Partial, ShardDelta Delta) Roll(IEnumerable<ReadOnlyMemory<byte>> blocks, WindowState previous, SceneTable scenes, int day, long[]? skip = null, long limit = long.MaxValue, WindowState? into = null)
    {
        if (into is not null && ReferenceEquals(into, previous)) throw new ArgumentException("The new state must be a copy of the previous one: the roll reads the previous state.", nameof(into));
        var roller = TakeSpare();
        if (roller is null) roller = new BlockShardRoller(previous, scenes, day);
        else roller.Reset(previous, scenes, day);
        roller._skip = skip ?? [];
        roller._nextSkip = 0;
        roller._position = 0;
        roller._limit = limit;
        roller._into = into;
        long events = 0;
        foreach (var block in blocks) events += roller.Read(block.Span);
        roller._partial.Events = events;
        var delta = roller.Finish();
        var partial = roller._partial;
        roller.Release();
        KeepSpare(roller);
        return (partial, delta);
    }

    /// <summary>Drops what belongs to the finished shard-day (its inputs and outputs), keeping the buffers.</summary>
    private void Release()
    {
        _partial = null!;
        _previous = null!;
        _into = null;
        _delta = null;
        _orders.Clear();
        _loadByProgram.Clear();
        _loadTotal.Clear();
    }

    /// <summary>Ready for another shard-day: every table emptied, buffers kept.</summary>
    private void Reset(WindowState previous, SceneTable scenes, int day)
    {
        for (var i = 0; i < _values.Length; i++)
        {
            Array.Clear(_values[i]);
            Array.Clear(_touched[i]);
        }
        Array.Clear(_info, 0, Math.Min(_info.Length, _strings.Count));
        _strings.Reset();
        _ids.Reset();
        _programs.Clear();
        _currencies.Clear();
        _currencyIndex.Reset();
        _users.Clear();
        _pageByPair.Reset();
        _pageByValue.Clear();
        _pages.Clear();
        _pageVisitors.Reset();
        _visitCount = 0;
        _pageSharers.Reset();
        _custom = new CustomEventTally();
        _programChannels.Reset(); _programSources.Reset(); _programPlatforms.Reset();
        _programDurations.Reset(); _programDepths.Reset(); _programReferrers.Reset();
        _userChannels.Reset();
        _pairIndex.Reset();
        _pairCount = 0;
        _sessionIndex.Clear();
        _sessionCount = 0;
        _started.Clear();
        _previous = previous;
        _scenes = scenes;
        _day = day;
        _partial = new ShardPartial { Day = day };
    }

    private int Read(ReadOnlySpan<byte> block)
    {
        var reader = EventBlockCodec.Open(block);
        var n = reader.StringCount;
        if (_local.Length < n) _local = new int[Math.Max(n, _local.Length * 2)];
        if (_hashes.Length < n)
        {
            _hashes = new uint[_local.Length];
            _ranges = new long[_local.Length];
        }
        var payload = reader.Payload;
        // Every dictionary entry mapped up front (most entries are users and sessions the events use, each a
        // cache miss in the string table): first every entry hashed and its slot fetched, then interned, so
        // the misses overlap instead of being waited for one at a time.
        for (var i = 0; i < n; i++)
        {
            var offset = reader.NextString(out var length);
            _ranges[i] = ((long)offset << 32) | (uint)length;
            _hashes[i] = _strings.HashAndFetch(payload.Slice(offset, length));
        }
        for (var i = 0; i < n; i++)
            _local[i] = _strings.Intern(payload.Slice((int)(_ranges[i] >> 32), (int)(uint)_ranges[i]), _hashes[i]);
        if (_strings.Count > _info.Length) Array.Resize(ref _info, Math.Max(_strings.Count, _info.Length * 2));
        FetchRecords(n);
        var e = new BlockEvent();
        var count = 0;
        while (reader.TryReadEvent(ref e))
        {
            if (_position >= _limit || (_nextSkip < _skip.Length && _skip[_nextSkip] == _position))
            {
                if (_position < _limit) _nextSkip++;
                _position++;
                continue;
            }
            _position++;
            count++;
            Aggregate(ref e, payload);
        }
        return count;
    }

    /// <summary>
    /// Fetches into the cache, ahead of the block's events, the records they will touch: each dictionary
    /// string's <see cref="IdInfo"/>, then for a session id its last session (112 bytes). Read at the event,
    /// these are two dependent misses per event; fetched here, a block's worth overlap. For a user, its newest
    /// (user, mini-program) pair.
    /// </summary>
    private void FetchRecords(int n)
    {
        var info = _info;
        var local = _local.AsSpan(0, n);
        foreach (var id in local) CacheLines.Fetch(ref info[id]);
        var sessions = _sessions;
        var pairs = _pairs;
        foreach (var id in local)
        {
            ref var r = ref info[id];
            var session = r.Session - 1;
            if (session >= 0) CacheLines.Fetch(ref sessions[session], Unsafe.SizeOf<Session>());
            var pair = r.Pair - 1;
            if (pair >= 0) CacheLines.Fetch(ref pairs[pair]);
        }
    }

    // Per block: each dictionary string's hash and (offset, length) in the payload, while it is interned.
    private uint[] _hashes = new uint[256];
    private long[] _ranges = new long[256];

    // The duplicates of the shard-day, by position among its events (ascending), and the read position.
    private long[] _skip = [];
    private int _nextSkip;
    private long _position, _limit;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Id(int local, ReadOnlySpan<byte> payload)
    {
        return local < 0 ? 0 : _local[local]; // absent: the empty string, as `?? ""`
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Program(int id)
    {
        ref var info = ref _info[id];
        if (info.MiniProgram == 0)
        {
            _programs.Add(id);
            info.MiniProgram = _programs.Count;
        }
        return info.MiniProgram - 1;
    }

    private int CurrencyIndex(int id)
    {
        var index = _currencyIndex.GetOrAdd(id, _currencies.Count, out var added);
        if (added) _currencies.Add(id);
        return index;
    }

    private int PageIndex(int program, int pageId)
    {
        var index = _pageByPair.Get(((long)program << 32) | (uint)pageId);
        if (index < 0)
        {
            // The dimension value is the concatenation: two (mini-program, page) pairs may give one value.
            var value = string.Concat(_strings.Get(_programs[program]), pageId == 0 ? null : _strings.Get(pageId));
            ref var byValue = ref CollectionsMarshal.GetValueRefOrAddDefault(_pageByValue, value, out var known);
            if (!known)
            {
                byValue = _pages.Count;
                _pages.Add(value);
            }
            index = byValue;
            _pageByPair.GetOrAdd(((long)program << 32) | (uint)pageId, index, out _);
        }
        return index;
    }

    /// <summary>The (user, mini-program) pair's index (made when new): most often the user's newest pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int PairIndex(int user, int program)
    {
        var newest = _info[user].Pair - 1;
        if (newest >= 0 && _pairs[newest].Program == program) return newest; // _pairs[newest].User == user: it is this user's pair
        return PairIndexSlow(user, program);
    }

    private int PairIndexSlow(int user, int program)
    {
        var index = FindPair(user, program);
        return index >= 0 ? index : NewPair(user, program);
    }

    /// <summary>The (user, mini-program) pair's index, or -1 when the shard-day has none.</summary>
    /// <remarks>
    /// A user's pairs are a chain from its newest (<see cref="IdInfo.Pair"/>, then <see cref="Pair.Previous"/>). Most
    /// users have one to three, so finding a pair, or learning that it is new, reads a record or two, the newest
    /// of which <see cref="FetchRecords"/> fetched with the block; a hash table lookup would be a cache miss of its
    /// own (one per new pair: 85,000 per 1,000,000 events). A user with more than <see cref="PairWalk"/> pairs has
    /// all of them in <see cref="_pairIndex"/> as well, so no walk is longer than that.
    /// </remarks>
    private int FindPair(int user, int program)
    {
        var p = _info[user].Pair - 1;
        for (var step = 0; p >= 0 && step < PairWalk; step++)
        {
            if (_pairs[p].Program == program) return p;
            p = _pairs[p].Previous - 1;
        }
        return p >= 0 ? _pairIndex.Get(PairKey(user, program)) : -1; // stopped short of the chain's end: the table has them all
    }

    private int NewPair(int user, int program)
    {
        ref var info = ref _info[user];
        var previous = info.Pair - 1;
        var depth = previous >= 0 ? _pairs[previous].Depth + 1 : 1;
        if (_pairCount == _pairs.Length) Array.Resize(ref _pairs, _pairs.Length * 2);
        var index = _pairCount++;
        _pairs[index] = new Pair { User = user, Program = program, Previous = previous + 1, Depth = depth };
        info.Pair = index + 1;
        if (depth == PairWalk + 1)
        {
            // From now on this user's walks stop short of the chain's end: the table gets all of its pairs.
            for (var p = index; p >= 0; p = _pairs[p].Previous - 1) _pairIndex.GetOrAdd(PairKey(user, _pairs[p].Program), p, out _);
        }
        else if (depth > PairWalk + 1) _pairIndex.GetOrAdd(PairKey(user, program), index, out _);
        return index;
    }

    private static long PairKey(int user, int program) => ((long)user << 32) | (uint)program;

    private int SessionIndex(int user, int program, int sessionId)
    {
        // Session ids are nearly always unique: the last session of this session id string is the usual hit.
        ref var info = ref _info[sessionId];
        var hint = info.Session - 1;
        if (hint >= 0)
        {
            ref var h = ref _sessions[hint];
            if (h.User == user && h.Program == program) return hint; // h.SessionId == sessionId: it is this id's session
        }
        var found = SessionIndexSlow(user, program, sessionId, hint);
        _info[sessionId].Session = found + 1;
        return found;
    }

    /// <summary>The session of a session id string that is new or shared (<paramref name="hint"/>: its last session seen, or -1).</summary>
    private int SessionIndexSlow(int user, int program, int sessionId, int hint)
    {
        if (hint < 0) return NewSession(user, program, sessionId); // the first session with this id: nothing to look up
        ref var info = ref _info[sessionId];
        if (!info.SharedSessionId)
        {
            // A second session with this id: from now on its sessions are found through the dictionary.
            info.SharedSessionId = true;
            _sessionIndex.Add(new SessionIds(_sessions[hint].User, _sessions[hint].Program, sessionId), hint);
        }
        ref var index = ref CollectionsMarshal.GetValueRefOrAddDefault(_sessionIndex, new SessionIds(user, program, sessionId), out var exists);
        if (!exists) index = NewSession(user, program, sessionId);
        return index;
    }

    private int NewSession(int user, int program, int sessionId)
    {
        if (_sessionCount == _sessions.Length) Array.Resize(ref _sessions, _sessions.Length * 2);
        var index = _sessionCount++;
        _sessions[index] = new Session { User = user, Program = program, SessionId = sessionId };
        return index;
    }

    /// <summary>The session (user, mini-program, session id string), or -1 when the shard-day has none.</summary>
    private int FindSession(int user, int program, int sessionId)
    {
        ref var info = ref _info[sessionId];
        if (info.SharedSessionId) return _sessionIndex.TryGetValue(new SessionIds(user, program, sessionId), out var si) ? si : -1;
        var only = info.Session - 1;
        return only >= 0 && _sessions[only].User == user && _sessions[only].Program == program ? only : -1;
    }

    /// <summary>Counts a (user, page) visit towards the page's distinct visitors, in batches.</summary>
    /// <remarks>
    /// The visitor set is large (8 MB at 1,000,000 events) and each lookup a cache (and TLB) miss. Made one per
    /// page_view among the rest of the event's work, the misses are waited for one at a time; looked up a
    /// batch at a time, in a loop of nothing else, the processor overlaps several. The batch is small and
    /// reused, so memory still grows with distinct visitors, not with events; the counter is the same sum.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddVisit(long key)
    {
        _visits[_visitCount++] = key;
        if (_visitCount == VisitBatch) FlushVisits();
    }

    private void FlushVisits()
    {
        var visits = _visits.AsSpan(0, _visitCount);
        var set = _pageVisitors;
        foreach (var key in visits)
            if (set.Add(key)) Add(Slot.PVisitors, (int)key, 1);
        _visitCount = 0;
    }

    private void ListUser(ref IdInfo info, int user)
    {
        if (info.Listed) return;
        info.Listed = true;
        _users.Add(user);
    }

    private void Aggregate(ref BlockEvent e, ReadOnlySpan<byte> payload)
    {
        switch (e.Type)
        {
            case EventType.SessionStart:
            {
                var user = Id(e.UserKey, payload);
                var mp = Program(Id(e.MiniProgramId, payload));
                var si = SessionIndex(user, mp, Id(e.SessionId, payload));
                ref var s = ref _sessions[si];
                if (!s.HasStart || Utf16Order.Earlier(e.TimeMs, e.EventIdUtf8, s.StartTime, _ids.Get(s.StartId)))
                {
                    if (!s.HasStart)
                    {
                        s.HasStart = true;
                        _started.Add(si);
                    }
                    s.StartTime = e.TimeMs;
                    _ids.Store(ref s.StartId, e.EventIdUtf8);
                    s.Scene = e.Scene; // 0 when absent, as `Scene ?? 0`
                    s.Platform = e.Platform;
                    s.Referrer = e.ReferrerMiniProgramId < 0 ? -1 : Id(e.ReferrerMiniProgramId, payload);
                }
                if (e.HasLoadMs)
                {
                    _loadTotal.Add(e.LoadMs);
                    while (_loadByProgram.Count <= mp) _loadByProgram.Add(null);
                    (_loadByProgram[mp] ??= []).Add(e.LoadMs);
                }
                break;
            }
            case EventType.SessionEnd:
            {
                var d = e.DurationMs; // 0 when absent
                var user = Id(e.UserKey, payload);
                var mp = Program(Id(e.MiniProgramId, payload));
                AddTotal(Slot.TSessionEnds, 1);
                Add(Slot.MSessionEnds, mp, 1);
                AddTotal(Slot.TDurationMs, d);
                Add(Slot.MDurationMs, mp, d);
                var bucket = (int)Math.Clamp(d / 1000, 0, 101); // seconds, as WeChatBuckets.DurationBucket reads them
                Add(Slot.SessionsByDuration, bucket, 1);
                Add(Slot.ProgramSessionsByDuration, _programDurations.IndexOf(mp, bucket), 1);
                ref var info = ref _info[user];
                info.DurationMs += d;
                ListUser(ref info, user);
                var pi = PairIndex(user, mp);
                _pairs[pi].DurationMs += d;
                break;
            }
            case EventType.PageView:
            {
                var user = Id(e.UserKey, payload);
                var mp = Program(Id(e.MiniProgramId, payload));
                var page = PageIndex(mp, Id(e.Page, payload));
                AddTotal(Slot.TPageViews, 1);
                Add(Slot.MPageViews, mp, 1);
                Add(Slot.PViews, page, 1);
                AddVisit(((long)user << 32) | (uint)page);
                if (e.HasDurationMs)
                {
                    Add(Slot.PStayMs, page, e.DurationMs);
                    Add(Slot.PStayCount, page, 1);
                }
                var si = SessionIndex(user, mp, Id(e.SessionId, payload));
                ref var s = ref _sessions[si];
                s.HasActivity = true;
                if (s.PageViews == 0 || Utf16Order.Earlier(e.TimeMs, e.EventIdUtf8, s.FirstTime, _ids.Get(s.FirstId)))
                {
                    s.FirstTime = e.TimeMs; _ids.Store(ref s.FirstId, e.EventIdUtf8); s.FirstPage = page;
                }
                if (s.PageViews == 0 || Utf16Order.Earlier(s.LastTime, _ids.Get(s.LastId), e.TimeMs, e.EventIdUtf8))
                {
                    s.LastTime = e.TimeMs; _ids.Store(ref s.LastId, e.EventIdUtf8); s.LastPage = page;
                }
                s.PageViews++;
                break;
            }
            case EventType.Share:
            {
                var user = Id(e.UserKey, payload);
                var mp = Program(Id(e.MiniProgramId, payload));
                AddTotal(Slot.TShares, 1);
                Add(Slot.MShares, mp, 1);
                ref var info = ref _info[user];
                info.Sharer = true;
                ListUser(ref info, user);
                var pi = PairIndex(user, mp);
                _pairs[pi].Sharer = true;
                if (e.Page >= 0)
                {
                    var page = PageIndex(mp, Id(e.Page, payload));
                    Add(Slot.PShares, page, 1);
                    if (_pageSharers.Add(((long)user << 32) | (uint)page)) Add(Slot.PSharers, page, 1);
                }
                break;
            }
            case EventType.OrderPaid:
            {
                if (e.MerchantId < 0 || !e.HasOrderId || e.Currency < 0 || !e.HasAmount) break;
                var user = Id(e.UserKey, payload);
                var mpId = Id(e.MiniProgramId, payload);
                var mp = Program(mpId);
                var key = new OrderKey(_strings.Get(Id(e.MerchantId, payload)), Utf8Strings.Utf8.GetString(e.OrderIdUtf8));
                var candidate = new OrderCandidate(key, e.TimeMs, Utf8Strings.Utf8.GetString(e.EventIdUtf8), _strings.Get(user), _strings.Get(mpId),
                    _strings.Get(Id(e.Currency, payload)), e.Amount, false, false, false);
                ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_orders, key, out var exists);
                if (!exists || candidate.IsEarlierThan(slot.Candidate)) slot = (candidate, user, mp, e.SessionId < 0 ? -1 : Id(e.SessionId, payload));
                break;
            }
            case EventType.MiniProgramPublished:
                _partial.Publishes.Add(new PublishEvent(_strings.Get(Id(e.MiniProgramId, payload)), e.TimeMs, Utf8Strings.Utf8.GetString(e.EventIdUtf8),
                    _strings.Get(Id(e.DeveloperId, payload))));
                break;
            case EventType.OrderRefunded:
                if (e.Currency >= 0 && e.HasAmount) Add(Slot.CRefunds, CurrencyIndex(Id(e.Currency, payload)), e.Amount);
                break;
            case EventType.AdImpression:
            {
                var mp = Program(Id(e.MiniProgramId, payload));
                AddTotal(Slot.TAdImpressions, 1);
                Add(Slot.MAdImpressions, mp, 1);
                if (e.HasRevenue && e.Currency >= 0)
                {
                    var c = CurrencyIndex(Id(e.Currency, payload));
                    Add(Slot.CAdRevenue, c, e.Revenue);
                    Add(Slot.CMoneyCurrency, c, 1);
                }
                break;
            }
            case EventType.AdClick:
            {
                var mp = Program(Id(e.MiniProgramId, payload));
                AddTotal(Slot.TAdClicks, 1);
                Add(Slot.MAdClicks, mp, 1);
                break;
            }
            case EventType.Error:
            {
                var user = Id(e.UserKey, payload);
                var mp = Program(Id(e.MiniProgramId, payload));
                var si = SessionIndex(user, mp, Id(e.SessionId, payload));
                ref var s = ref _sessions[si];
                s.HasActivity = true;
                s.HasError = true;
                if (e.ErrorKind == ErrorKind.Crash) s.HasCrash = true;
                break;
            }
            case EventType.Complaint:
            {
                var mp = Program(Id(e.MiniProgramId, payload));
                AddTotal(Slot.TComplaints, 1);
                Add(Slot.MComplaints, mp, 1);
                break;
            }
            case EventType.PermissionDenied:
                AddTotal(Slot.TPermissionDenials, 1);
                break;
            case EventType.Custom:
                _custom.Add(_strings.Get(Id(e.UserKey, payload)), _strings.Get(Id(e.MiniProgramId, payload)), _strings.Get(Id(e.CustomName, payload)));
                break;
        }
    }

    private bool Earlier(in Session a, in Session b) =>
        Utf16Order.Earlier(a.StartTime, _ids.Get(a.StartId), b.StartTime, _ids.Get(b.StartId));

    /// <summary>
    /// Fetches into the cache, ahead of <see cref="Finish"/>'s pass over the new sessions, what it will read at
    /// random for a session: its user's <see cref="IdInfo"/> and string (some sessions ahead), then, once that
    /// IdInfo is in, the user's last pair and earliest session so far (half as far ahead). The sessions
    /// themselves are read nearly in order, which the processor foresees; these it cannot.
    /// </summary>
    private void FetchAhead(ReadOnlySpan<int> started, int k)
    {
        const int Far = 16, Near = 8, Nearest = 4;
        if (k + Far < started.Length)
        {
            var user = _sessions[started[k + Far]].User;
            CacheLines.Fetch(ref _info[user]);
            _strings.Fetch(user);
        }
        if (k + Near < started.Length)
        {
            ref var info = ref _info[_sessions[started[k + Near]].User];
            if (info.Pair > 0) CacheLines.Fetch(ref _pairs[info.Pair - 1]);
            if (info.FirstSession > 0) CacheLines.Fetch(ref _sessions[info.FirstSession - 1], Unsafe.SizeOf<Session>());
        }
        // The user's string, when made already, is hashed for the session's key.
        if (k + Nearest < started.Length) _strings.FetchMade(_sessions[started[k + Nearest]].User);
    }

    /// <summary>
    /// Fetches, ahead of a pass over users (string ids, in <paramref name="users"/>'s order), the user's string:
    /// first where it is kept, then (half as far ahead) its characters, which the state's dictionaries hash.
    /// </summary>
    private void FetchUserAhead(ReadOnlySpan<int> users, int k)
    {
        const int Far = 8, Near = 4;
        if (k + Far < users.Length) _strings.Fetch(users[k + Far]);
        if (k + Near < users.Length) _strings.FetchMade(users[k + Near]);
    }

    /// <summary>The same for a pass over (user, mini-program) pairs (indexes into <see cref="_pairs"/>, nearly in order).</summary>
    private void FetchPairUserAhead(ReadOnlySpan<int> pairs, int k)
    {
        const int Far = 8, Near = 4;
        if (k + Far < pairs.Length) _strings.Fetch(_pairs[pairs[k + Far]].User);
        if (k + Near < pairs.Length) _strings.FetchMade(_pairs[pairs[k + Near]].User);
    }

    /// <summary>Whether <paramref name="user"/> meets channel index <paramref name="channel"/> for the first time (and records it).</summary>
    private bool FirstOfUser(ref uint channels, int user, int channel)
    {
        if (channel >= 32) return _userChannels.Add(((long)user << 32) | (uint)channel);
        if ((channels & (1u << channel)) != 0) return false;
        channels |= 1u << channel;
        return true;
    }

    /// <summary>Sessions, users, engagement and orders from what the pass gathered; then the counters into the partial.</summary>
    private ShardDelta Finish()
    {
        FlushVisits();
        var delta = new ShardDelta(_into is null ? _started.Count : 0);
        _delta = delta;
        if (_into is { } into) RollupEngine.Reserve(into.Sessions, _started.Count);
        var day = _day;
        var previous = _previous;
        var sessionRetentionStart = day - WindowState.SessionRetentionDays + 1;

        // Channels: per scene (the entry channel and source of each distinct scene), channel values deduplicated.
        var sceneSlots = new Dictionary<int, (int Channel, int Source)>();
        var channelIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var channels = new List<string>();
        var sources = new List<string>();
        var activeUsers = new List<int>();
        var activePairs = new List<int>();

        var started = CollectionsMarshal.AsSpan(_started);
        for (var k = 0; k < started.Length; k++)
        {
            FetchAhead(started, k);
            var si = started[k];
            ref var s = ref _sessions[si];
            var key = new SessionKey(_strings.Get(s.User), _strings.Get(_programs[s.Program]), _strings.Get(s.SessionId));
            if (previous.Sessions.Count > 0 && previous.Sessions.TryGetValue(key, out var earlier) && earlier.Day >= sessionRetentionStart) continue;

            ref var scene = ref CollectionsMarshal.GetValueRefOrAddDefault(sceneSlots, s.Scene, out var sceneKnown);
            if (!sceneKnown)
            {
                var channelName = _scenes.ChannelOf(s.Scene);
                ref var ci = ref CollectionsMarshal.GetValueRefOrAddDefault(channelIndex, channelName, out var channelKnown);
                if (!channelKnown)
                {
                    ci = channels.Count;
                    channels.Add(channelName);
                }
                scene = (ci, sources.Count);
                sources.Add(_scenes.SourceOf(s.Scene).ToString(CultureInfo.InvariantCulture));
            }
            var channel = channels[scene.Channel];
            var platformIndex = s.Platform is >= Platform.Unknown and <= Platform.Other ? (int)s.Platform : 0;
            var platform = WireNames.PlatformName(s.Platform);
            Put(key, new SessionInfo(day, s.Scene, channel, platform, s.StartTime, _ids.String(s.StartId)));
            s.NewToday = true;
            s.Channel = scene.Channel;

            var mp = s.Program;
            AddTotal(Slot.TSessions, 1);
            Add(Slot.MSessions, mp, 1);
            Add(Slot.ChannelSessions, scene.Channel, 1);
            Add(Slot.SourceSessions, scene.Source, 1);
            Add(Slot.PlatformSessions, platformIndex, 1);
            Add(Slot.ProgramChannelSessions, _programChannels.IndexOf(mp, scene.Channel), 1);
            Add(Slot.ProgramSourceSessions, _programSources.IndexOf(mp, scene.Source), 1);
            Add(Slot.ProgramPlatformSessions, _programPlatforms.IndexOf(mp, platformIndex), 1);
            if (s.Referrer >= 0)
            {
                AddTotal(Slot.TReferredSessions, 1);
                Add(Slot.ReferrerSessions, _programReferrers.IndexOf(mp, s.Referrer), 1);
            }
            if (channel == "share")
            {
                AddTotal(Slot.TShareSessions, 1);
                Add(Slot.MShareSessions, mp, 1);
            }
            else if (channel == "qr") AddTotal(Slot.TQrSessions, 1);

            ref var user = ref _info[s.User];
            if (user.FirstSession == 0)
            {
                user.FirstSession = si + 1;
                activeUsers.Add(s.User);
            }
            else if (Earlier(s, _sessions[user.FirstSession - 1])) user.FirstSession = si + 1;
            var pairIndex = PairIndex(s.User, mp);
            ref var pair = ref _pairs[pairIndex];
            if (pair.FirstSession == 0)
            {
                pair.FirstSession = si + 1;
                activePairs.Add(pairIndex);
            }
            else if (Earlier(s, _sessions[pair.FirstSession - 1])) pair.FirstSession = si + 1;
            // Distinct users per channel and per platform: bits of the user's IdInfo, already in cache here,
            // instead of a (user, value) set that misses the cache per session.
            if (FirstOfUser(ref user.Channels, s.User, scene.Channel)) Add(Slot.ChannelDau, scene.Channel, 1);
            if ((user.Platforms & (1 << platformIndex)) == 0)
            {
                user.Platforms |= (byte)(1 << platformIndex);
                Add(Slot.PlatformDau, platformIndex, 1);
            }

            if (s.HasActivity)
            {
                if (s.PageViews > 0)
                {
                    Add(Slot.SessionsByDepth, Math.Min(s.PageViews, 11), 1);
                    Add(Slot.ProgramSessionsByDepth, _programDepths.IndexOf(mp, Math.Min(s.PageViews, 11)), 1);
                    Add(Slot.PEntries, s.FirstPage, 1);
                    Add(Slot.PExits, s.LastPage, 1);
                }
                if (s.HasError)
                {
                    AddTotal(Slot.TErrorSessions, 1);
                    Add(Slot.MErrorSessions, mp, 1);
                }
                if (s.HasCrash)
                {
                    AddTotal(Slot.TCrashSessions, 1);
                    Add(Slot.MCrashSessions, mp, 1);
                }
            }
        }

        if (_into is { } users) RollupEngine.Reserve(users.Users, activeUsers.Count);
        var active = CollectionsMarshal.AsSpan(activeUsers);
        for (var k = 0; k < active.Length; k++)
        {
            FetchUserAhead(active, k);
            var u = active[k];
            var userKey = _strings.Get(u);
            AddTotal(Slot.TDau, 1);
            if (previous.Users.TryGetValue(userKey, out var known))
            {
                if (known.LastActiveDay <= day - 91) AddTotal(Slot.TReturning, 1);
                Put(userKey, known.ActiveOn(day));
            }
            else
            {
                AddTotal(Slot.TNew, 1);
                var firstChannelIndex = _sessions[_info[u].FirstSession - 1].Channel;
                Add(Slot.ChannelNew, firstChannelIndex, 1);
                var firstChannel = channels[firstChannelIndex];
                if (firstChannel == "share") AddTotal(Slot.TViral, 1);
                Put(userKey, UserWindow.New(day, firstChannel));
            }
        }
        if (_into is { } pairs) RollupEngine.Reserve(pairs.UserPrograms, activePairs.Count);
        var pairList = CollectionsMarshal.AsSpan(activePairs);
        for (var k = 0; k < pairList.Length; k++)
        {
            FetchPairUserAhead(pairList, k);
            ref var pair = ref _pairs[pairList[k]];
            AddTotal(Slot.TProgramPairs, 1);
            Add(Slot.MDau, pair.Program, 1);
            var up = new UserProgramKey(_strings.Get(pair.User), _strings.Get(_programs[pair.Program]));
            if (previous.UserPrograms.TryGetValue(up, out var known))
                Put(up, known.ActiveOn(day));
            else
            {
                Add(Slot.MNew, pair.Program, 1);
                var firstChannel = channels[_sessions[pair.FirstSession - 1].Channel];
                if (firstChannel == "share") Add(Slot.MViral, pair.Program, 1);
                Put(up, UserWindow.New(day, firstChannel));
            }
        }

        // Sharers and the North Star's engaged users (without paying; the finaliser adds buyers).
        long sharers = 0, engaged = 0;
        foreach (var u in _users)
        {
            ref var info = ref _info[u];
            if (info.Sharer) sharers++;
            if (info.Sharer || info.DurationMs >= ShardDayRoller.EngagedDurationMs) engaged++;
        }
        AddTotal(Slot.TSharers, sharers);
        for (var i = 0; i < _pairCount; i++)
            if (_pairs[i].Sharer) Add(Slot.MSharers, _pairs[i].Program, 1);
        AddTotal(Slot.TEngaged, engaged);
        for (var i = 0; i < _pairCount; i++)
            if (_pairs[i].Sharer || _pairs[i].DurationMs >= ShardDayRoller.EngagedDurationMs) Add(Slot.MEngaged, _pairs[i].Program, 1);

        foreach (var (_, (o, user, mp, sessionId)) in _orders)
        {
            var qr = false;
            if (sessionId >= 0)
            {
                string channel;
                if (FindSession(user, mp, sessionId) is var si and >= 0 && _sessions[si].NewToday) channel = channels[_sessions[si].Channel];
                else
                {
                    var sk = new SessionKey(o.Buyer, o.MiniProgramId, _strings.Get(sessionId));
                    channel = previous.Sessions.TryGetValue(sk, out var known) && known.Day >= sessionRetentionStart ? known.Channel : SceneTable.UnknownChannel;
                }
                qr = channel == "qr";
            }
            var buyer = _info[user];
            var pi = FindPair(user, mp);
            var programEngaged = pi >= 0 && (_pairs[pi].Sharer || _pairs[pi].DurationMs >= ShardDayRoller.EngagedDurationMs);
            _partial.Orders.Add(o with
            {
                QrSession = qr,
                BuyerEngaged = buyer.Sharer || buyer.DurationMs >= ShardDayRoller.EngagedDurationMs,
                BuyerProgramEngaged = programEngaged,
            });
        }

        WriteCounters(channels, sources);
        return delta;
    }

    // The day's sessions, users and pairs: set in the new state as they are made when the caller gave it (as
    // RollupEngine.Apply would set the delta's entries: each key is made once per day), else listed in the delta.
    private void Put(SessionKey key, SessionInfo value)
    {
        if (_into is { } state) state.Sessions[key] = value;
        else _delta!.Sessions.Add(new(key, value));
    }

    private void Put(string user, UserWindow value)
    {
        if (_into is { } state) state.Users[user] = value;
        else _delta!.Users.Add(new(user, value));
    }

    private void Put(UserProgramKey pair, UserWindow value)
    {
        if (_into is { } state) state.UserPrograms[pair] = value;
        else _delta!.UserPrograms.Add(new(pair, value));
    }

    /// <summary>The typed counters into the partial's string-keyed aggregate, once per distinct counter.</summary>
    private void WriteCounters(List<string> channels, List<string> sources)
    {
        var agg = _partial.Aggregate;
        _custom.WriteCounters(agg);
        if (_loadTotal.Count > 0)
        {
            agg.AddSamples(RollupEngine.LoadSamples, ShardDayRoller.Total, "", _loadTotal);
            for (var mp = 0; mp < _loadByProgram.Count; mp++)
                if (_loadByProgram[mp] is { } samples) agg.AddSamples(RollupEngine.LoadSamples, ShardDayRoller.MiniProgram, _strings.Get(_programs[mp]), samples);
        }

        for (var slot = 0; slot < Slots.Length; slot++)
        {
            var (metric, dim) = Slots[slot];
            var values = _values[slot];
            var touched = _touched[slot];
            for (var i = 0; i < values.Length; i++)
            {
                if (!touched[i]) continue;
                var (dimension, value) = dim switch
                {
                    Dim.Total => (ShardDayRoller.Total, ""),
                    Dim.MiniProgram => (ShardDayRoller.MiniProgram, _strings.Get(_programs[i])),
                    Dim.Page => (ShardDayRoller.MiniProgramPage, _pages[i]),
                    Dim.Currency => (ShardDayRoller.Currency, _strings.Get(_currencies[i])),
                    Dim.Channel => (ShardDayRoller.Channel, channels[i]),
                    Dim.Source => (ShardDayRoller.Source, sources[i]),
                    Dim.Platform => (ShardDayRoller.Platform, WireNames.PlatformName((Platform)i)),
                    Dim.DurationBucket => (ShardDayRoller.DurationBucket, WeChatBuckets.DurationBucket(i * 1000L)),
                    Dim.DepthBucket => (ShardDayRoller.DepthBucket, WeChatBuckets.DepthBucket(i)),
                    Dim.MiniProgramChannel => PairValue(ShardDayRoller.MiniProgramChannel, _programChannels, i, v => channels[v]),
                    Dim.MiniProgramSource => PairValue(ShardDayRoller.MiniProgramSource, _programSources, i, v => sources[v]),
                    Dim.MiniProgramPlatform => PairValue(ShardDayRoller.MiniProgramPlatform, _programPlatforms, i, v => WireNames.PlatformName((Platform)v)),
                    Dim.MiniProgramDuration => PairValue(ShardDayRoller.MiniProgramDurationBucket, _programDurations, i, v => WeChatBuckets.DurationBucket(v * 1000L)),
                    Dim.MiniProgramDepth => PairValue(ShardDayRoller.MiniProgramDepthBucket, _programDepths, i, v => WeChatBuckets.DepthBucket(v)),
                    Dim.MiniProgramReferrer => PairValue(ShardDayRoller.MiniProgramReferrer, _programReferrers, i, v => _strings.Get(v)),
                    _ => throw new InvalidOperationException(),
                };
                agg.Add(metric, dimension, value, values[i]);
            }
        }
    }

    private (string Dimension, string Value) PairValue(string dimension, PairDimension pairs, int index, Func<int, string> valueOf)
    {
        var (program, value) = pairs.At(index);
        return (dimension, ShardDayRoller.Per(_strings.Get(_programs[program]), valueOf(value)));
    }
}
