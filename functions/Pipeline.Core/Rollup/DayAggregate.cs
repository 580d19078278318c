using System.Runtime.InteropServices;

namespace Pipeline.Core.Rollup;

/// <summary>A counter's address: a metric (or an internal quantity), a dimension and its value.</summary>
public readonly record struct CounterKey(string Metric, string Dimension, string Value);

/// <summary>
/// A mergeable partial aggregate of one day: integer counters and percentile samples keyed by
/// metric, dimension and value. Each user shard builds one; because every user is in exactly one
/// shard, distinct-user counts add up across shards, so <see cref="Merge"/> is plain addition
/// (and concatenation of samples).
/// </summary>
public sealed class DayAggregate
{
    private readonly Dictionary<CounterKey, long> _counters = new();
    private readonly Dictionary<CounterKey, List<long>> _samples = new();

    public IReadOnlyDictionary<CounterKey, long> Counters => _counters;

    public IReadOnlyDictionary<CounterKey, List<long>> Samples => _samples;

    public void Add(string metric, string dimension, string value, long amount)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_counters, new CounterKey(metric, dimension, value), out _);
        slot += amount;
    }

    public void AddTotal(string metric, long amount) => Add(metric, "total", "", amount);

    public void AddSample(string metric, string dimension, string value, long sample)
    {
        ref var list = ref CollectionsMarshal.GetValueRefOrAddDefault(_samples, new CounterKey(metric, dimension, value), out _);
        (list ??= []).Add(sample);
    }

    /// <summary>Adds samples to one key (in their order).</summary>
    public void AddSamples(string metric, string dimension, string value, List<long> samples)
    {
        ref var list = ref CollectionsMarshal.GetValueRefOrAddDefault(_samples, new CounterKey(metric, dimension, value), out _);
        (list ??= new List<long>(samples.Count)).AddRange(samples);
    }

    public long Get(string metric, string dimension, string value) =>
        _counters.TryGetValue(new CounterKey(metric, dimension, value), out var v) ? v : 0;

    public long GetTotal(string metric) => Get(metric, "total", "");

    /// <summary>Adds another partial aggregate of the same day into this one.</summary>
    public void Merge(DayAggregate other)
    {
        foreach (var kv in other._counters)
        {
            ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_counters, kv.Key, out _);
            slot += kv.Value;
        }
        foreach (var kv in other._samples)
        {
            ref var list = ref CollectionsMarshal.GetValueRefOrAddDefault(_samples, kv.Key, out _);
            (list ??= []).AddRange(kv.Value);
        }
    }
}
