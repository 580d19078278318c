using BenchmarkDotNet.Attributes;
using Pipeline.Core.Events;
using Pipeline.Core.Rollup;
using Pipeline.Core.Scenes;

namespace Pipeline.Benchmarks;

/// <summary>
/// One day's rollup from an empty window state. With 16 shards the engine runs the shards with
/// Parallel.For (this machine: 2 cores, so at most 2 threads); with 1 shard it is single-threaded,
/// which gives the per-core throughput.
/// </summary>
public class RollupBenchmarks
{
    private readonly RollupEngine _engine = new(SceneTable.Default, 0.006);
    private IReadOnlyList<IReadOnlyList<PipelineEvent>> _shards = null!;

    [Params(100_000, 1_000_000)]
    public int Events { get; set; }

    [Params(16, 1)]
    public int Shards { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _shards = BenchData.Shard(BenchData.PipelineEvents(Events, users: RollupData.UsersFor(Events)), Shards);
        var users = _shards.SelectMany(s => s).Select(e => e.UserKey).Distinct().Count();
        Console.WriteLine($"// rollup input: {Events:N0} events, {users:N0} users, {Shards} shards, {Environment.ProcessorCount} processors");
    }

    [Benchmark(Description = "RollupEngine.RollUp")]
    public int RollUp() => _engine.RollUp(BenchData.Day, _shards, WindowState.Empty()).Rows.Count;
}

/// <summary>The window state saved after each day (and read before the next).</summary>
public class WindowStateCodecBenchmarks
{
    private WindowState _state = null!;
    private byte[] _bytes = null!;

    /// <summary>Events of the day whose state is encoded.</summary>
    [Params(100_000, 1_000_000)]
    public int Events { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var shards = BenchData.Shard(BenchData.PipelineEvents(Events, users: RollupData.UsersFor(Events)), 16);
        _state = new RollupEngine(SceneTable.Default, 0.006).RollUp(BenchData.Day, shards, WindowState.Empty()).State;
        _bytes = WindowStateCodec.Encode(_state);
        Console.WriteLine($"// window state: {_bytes.Length:N0} bytes; {_state.Users.Count:N0} users, {_state.UserPrograms.Count:N0} user-programs, {_state.Sessions.Count:N0} sessions, {_state.Orders.Count:N0} orders");
    }

    [Benchmark(Description = "WindowStateCodec.Encode")]
    public int Encode() => WindowStateCodec.Encode(_state).Length;

    [Benchmark(Description = "WindowStateCodec.Decode")]
    public int Decode() => WindowStateCodec.Decode(_bytes).Users.Count;
}

internal static class RollupData
{
    /// <summary>Simulated users for a day of about <paramref name="events"/> events (the simulator makes about 13 per user and day: the first N by time are used).</summary>
    public static int UsersFor(int events) => events / 10;
}

/// <summary>
/// The product target's measure: one day's rollup from the event store format, on one core. The
/// day's events are held as encoded blocks (as processing writes them, here of
/// <see cref="BlockEvents"/> events each); one operation rolls the day up from an empty window
/// state, in one shard, so on one thread: either by decoding every block into events first
/// (the baseline) or by streaming the blocks into the aggregation.
/// </summary>
public class RollupFromStoreBenchmarks
{
    private readonly RollupEngine _engine = new(SceneTable.Default, 0.006);
    private List<byte[]> _blocks = null!;
    private List<ReadOnlyMemory<byte>> _memories = null!;

    [Params(1_000_000)]
    public int Events { get; set; }

    [Params(200)]
    public int BlockEvents { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var events = BenchData.PipelineEvents(Events, users: RollupData.UsersFor(Events));
        _blocks = events.Chunk(BlockEvents).Select(b => EventBlockCodec.Encode(b)).ToList();
        _memories = _blocks.Select(b => (ReadOnlyMemory<byte>)b).ToList();
        Console.WriteLine($"// event store input: {Events:N0} events in {_blocks.Count:N0} blocks, {_blocks.Sum(b => (long)b.Length):N0} bytes");
    }

    [Benchmark(Baseline = true, Description = "Decode + RollupEngine.RollUp, 1 shard")]
    public int DecodeAndRollUp()
    {
        var day = new List<PipelineEvent>(Events);
        foreach (var block in _blocks) day.AddRange(EventBlockCodec.Decode(block));
        return _engine.RollUp(BenchData.Day, [day], WindowState.Empty()).Rows.Count;
    }

    /// <summary>The streaming path: the shard's day straight from the blocks, then the day finalised (the same work as <see cref="DecodeAndRollUp"/>).</summary>
    [Benchmark(Description = "RollupEngine.RollShard(blocks) + FinaliseDay, 1 shard")]
    public int StreamFromBlocks()
    {
        var shard = _engine.RollShard(BenchData.Day, _memories, WindowState.Empty());
        return _engine.FinaliseDay(BenchData.Day, [shard.Partial], WindowState.Empty()).Rows.Count;
    }
}
