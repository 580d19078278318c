namespace Pipeline.Core.Query;

/// <summary>
/// What a read key may see. The platform's analysts (<c>--mini-programs *</c>) see every row; a
/// developer's key sees only the rows of its own mini-programs (dimensions <c>miniProgram…</c> whose
/// value belongs to one of them) and never the ecosystem's totals, which describe other developers too.
/// </summary>
public sealed record ReadAccess(string Reader, bool AllMiniPrograms, IReadOnlySet<string> MiniPrograms)
{
    public static ReadAccess Platform(string reader) => new(reader, true, new HashSet<string>(StringComparer.Ordinal));

    public bool Sees(string miniProgramId) => AllMiniPrograms || MiniPrograms.Contains(miniProgramId);

    /// <summary>Whether the row is visible: every row to the platform, a developer only its mini-programs' rows.</summary>
    public bool Sees(Rollup.MetricRow row) =>
        AllMiniPrograms || (Rollup.MetricRowKeys.IsProgramRow(row) && TryProgramOf(row, out var id) && MiniPrograms.Contains(id));

    private static bool TryProgramOf(Rollup.MetricRow row, out string id)
    {
        try
        {
            id = Rollup.MetricRowKeys.ProgramPartitionKey(row);
            return true;
        }
        catch (ArgumentException)
        {
            id = "";
            return false;
        }
    }
}
