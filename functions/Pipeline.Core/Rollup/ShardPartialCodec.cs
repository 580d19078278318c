using System.Buffers;
using System.Buffers.Binary;

namespace Pipeline.Core.Rollup;

/// <summary>
/// Binary form of a <see cref="ShardPartial"/>, the blob a shard invocation leaves for the day's
/// finaliser. Same primitives as <see cref="WindowStateCodec"/> (varints, strings interned per
/// document); entries in ordinal order so equal partials encode to equal bytes.
/// </summary>
/// <remarks>
/// Layout: magic <c>PRSP</c>, version byte, the day as int32, then the event count, the counters
/// (metric, dimension, value, amount), the samples (key, count, values), the order candidates and
/// the publishes, each section a varint count.
/// </remarks>
public static class ShardPartialCodec
{
    public const byte Version = 1;
    private static ReadOnlySpan<byte> Magic => "PRSP"u8;

    public static byte[] Encode(ShardPartial partial)
    {
        ArgumentNullException.ThrowIfNull(partial);
        var agg = partial.Aggregate;
        var w = new WindowStateCodec.Writer(new ArrayBufferWriter<byte>(4096 + agg.Counters.Count * 24));
        w.Raw(Magic);
        w.Byte(Version);
        Span<byte> i32 = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(i32, partial.Day);
        w.Raw(i32);
        w.VarInt(partial.Events);

        var counters = agg.Counters.ToArray();
        Array.Sort(counters, (a, b) => Compare(a.Key, b.Key));
        w.VarUInt((ulong)counters.Length);
        foreach (var (k, v) in counters)
        {
            w.Str(k.Metric); w.Str(k.Dimension); w.Str(k.Value); w.VarInt(v);
        }

        var samples = agg.Samples.ToArray();
        Array.Sort(samples, (a, b) => Compare(a.Key, b.Key));
        w.VarUInt((ulong)samples.Length);
        foreach (var (k, list) in samples)
        {
            w.Str(k.Metric); w.Str(k.Dimension); w.Str(k.Value);
            w.VarUInt((ulong)list.Count);
            foreach (var x in list) w.VarInt(x);
        }

        var orders = partial.Orders.ToArray();
        Array.Sort(orders, (a, b) =>
        {
            var c = string.CompareOrdinal(a.Key.MerchantId, b.Key.MerchantId);
            return c != 0 ? c : string.CompareOrdinal(a.Key.OrderId, b.Key.OrderId);
        });
        w.VarUInt((ulong)orders.Length);
        foreach (var o in orders)
        {
            w.Str(o.Key.MerchantId); w.Str(o.Key.OrderId); w.VarInt(o.TimeMs); w.Str(o.EventId); w.Str(o.Buyer); w.Str(o.MiniProgramId);
            w.Str(o.Currency); w.VarInt(o.Amount);
            w.Byte((byte)((o.QrSession ? 1 : 0) | (o.BuyerEngaged ? 2 : 0) | (o.BuyerProgramEngaged ? 4 : 0)));
        }

        w.VarUInt((ulong)partial.Publishes.Count);
        foreach (var p in partial.Publishes)
        {
            w.Str(p.MiniProgramId); w.VarInt(p.TimeMs); w.Str(p.EventId); w.Str(p.DeveloperId);
        }
        return w.Output.WrittenSpan.ToArray();
    }

    public static ShardPartial Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 9 || !data[..4].SequenceEqual(Magic))
            throw new InvalidDataException("Not a rollup shard partial (magic PRSP missing).");
        if (data[4] != Version)
            throw new InvalidDataException($"Rollup shard partial version {data[4]} is not supported (this build reads version {Version}).");
        var partial = new ShardPartial { Day = BinaryPrimitives.ReadInt32LittleEndian(data.Slice(5, 4)) };
        var r = new WindowStateCodec.Reader(data[9..]);
        partial.Events = r.VarInt();

        var n = r.Count();
        for (var i = 0; i < n; i++)
        {
            string metric = r.Str(), dimension = r.Str(), value = r.Str();
            partial.Aggregate.Add(metric, dimension, value, r.VarInt());
        }

        n = r.Count();
        for (var i = 0; i < n; i++)
        {
            string metric = r.Str(), dimension = r.Str(), value = r.Str();
            var count = r.Count();
            for (var j = 0; j < count; j++) partial.Aggregate.AddSample(metric, dimension, value, r.VarInt());
        }

        n = r.Count();
        for (var i = 0; i < n; i++)
        {
            var key = new OrderKey(r.Str(), r.Str());
            var time = r.VarInt();
            string eventId = r.Str(), buyer = r.Str(), mp = r.Str(), currency = r.Str();
            var amount = r.VarInt();
            var flags = r.Flags();
            partial.Orders.Add(new OrderCandidate(key, time, eventId, buyer, mp, currency, amount, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0));
        }

        n = r.Count();
        for (var i = 0; i < n; i++)
            partial.Publishes.Add(new PublishEvent(r.Str(), r.VarInt(), r.Str(), r.Str()));

        if (!r.AtEnd) throw new InvalidDataException("Rollup shard partial: trailing bytes after the last section.");
        return partial;
    }

    private static int Compare(CounterKey a, CounterKey b)
    {
        var c = string.CompareOrdinal(a.Metric, b.Metric);
        if (c != 0) return c;
        c = string.CompareOrdinal(a.Dimension, b.Dimension);
        return c != 0 ? c : string.CompareOrdinal(a.Value, b.Value);
    }
}
