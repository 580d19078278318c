using System.Globalization;

namespace Pipeline.Core.Rollup;

/// <summary>
/// Names of the ledger's parts. The finaliser keeps the orders of the 90-day window partitioned by a
/// hash of their key, and the buyers' paid-order days of the 30-day window partitioned by the buyer's
/// user shard, as many partitions of each as the run has shards, plus the mini-program registry whole,
/// so that it never holds more than one partition in memory.
/// </summary>
public static class LedgerParts
{
    public const string Registry = "registry";

    public static string Orders(int partition) => "orders-" + partition.ToString("D3", CultureInfo.InvariantCulture);

    public static string Buyers(int partition) => "buyers-" + partition.ToString("D3", CultureInfo.InvariantCulture);
}
