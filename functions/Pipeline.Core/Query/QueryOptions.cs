using System.ComponentModel.DataAnnotations;

namespace Pipeline.Core.Query;

/// <summary>Settings of the read API, section <c>Pipeline:Query</c> (app settings <c>Pipeline__Query__…</c>), validated at start-up.</summary>
public sealed class QueryOptions
{
    /// <summary>
    /// k of small-cell suppression: rows computed from fewer than k users (<see cref="SmallCells"/>) are
    /// withheld from developers' read keys, in the metrics and in the restatements. 0 (the default) turns it
    /// off; the platform's key sees every row whatever k is.
    /// </summary>
    [Range(0, 1_000_000)]
    public int MinimumCellUsers { get; set; }
}
