using System.Runtime.InteropServices;
using Pipeline.Core.Catalog;

namespace Pipeline.Core.Rollup;

/// <summary>The caps on distinct custom event names rolled up per day (the catalog allows a deployment to cap them, at least 100: docs/metric-definitions.md).</summary>
public static class CustomEventCaps
{
    /// <summary>Names of one mini-program on one day rolled up under their own name (<c>miniProgram.event</c>).</summary>
    public const int PerMiniProgram = 100;

    /// <summary>Names of the whole ecosystem on one day rolled up under their own name (<c>event</c>).</summary>
    public const int Ecosystem = 1_000;

    /// <summary>The name every name past a cap is counted under (real names are <c>[a-z0-9_]</c>, so it cannot clash).</summary>
    public const string Other = "(other)";
}

/// <summary>
/// <c>custom.events</c> and <c>custom.users</c>: one shard's day of custom events counted into additive
/// counters, and the day's rows made from every shard's counters with the name caps applied.
/// </summary>
/// <remarks>
/// <para>The names kept under a cap are the smallest in ordinal order among the names of the day (per
/// mini-program, or over the ecosystem); the rest are <c>(other)</c>. Ordinal order is what makes the
/// distinct users of <c>(other)</c> exact without a second pass: the kept names are a prefix of the
/// order, so a user has an overflow name exactly when their greatest name is past the prefix. Each shard
/// counts, per name, the users whose greatest name it is; the finaliser adds those up over the overflow
/// names. Every counter is a sum over a shard's own users, so shards never coordinate, and the choice
/// does not depend on the order events arrive in.</para>
/// </remarks>
internal sealed class CustomEventTally
{
    // Internal counters (not metrics): events, distinct users, and users whose greatest name it is.
    internal const string Events = "_custom_events", Users = "_custom_users", GreatestOf = "_custom_greatest";

    private readonly Dictionary<(string MiniProgram, string Name), long> _events = new();
    private readonly HashSet<(string User, string MiniProgram, string Name)> _programUsers = new();
    private readonly HashSet<(string User, string Name)> _users = new();
    private readonly Dictionary<(string User, string MiniProgram), string> _greatestInProgram = new();
    private readonly Dictionary<string, string> _greatest = new(StringComparer.Ordinal);
    private long _total;

    public bool IsEmpty => _total == 0;

    public void Add(string user, string miniProgram, string name)
    {
        _total++;
        CollectionsMarshal.GetValueRefOrAddDefault(_events, (miniProgram, name), out _)++;
        if (_programUsers.Add((user, miniProgram, name)))
        {
            ref var g = ref CollectionsMarshal.GetValueRefOrAddDefault(_greatestInProgram, (user, miniProgram), out var seen);
            if (!seen || string.CompareOrdinal(name, g) > 0) g = name;
        }
        if (_users.Add((user, name)))
        {
            ref var g = ref CollectionsMarshal.GetValueRefOrAddDefault(_greatest, user, out var seen);
            if (!seen || string.CompareOrdinal(name, g) > 0) g = name;
        }
    }

    /// <summary>The shard's counters into its partial (the total of <c>custom.events</c> always, even 0).</summary>
    public void WriteCounters(DayAggregate agg)
    {
        agg.AddTotal("custom.events", _total);
        foreach (var ((mp, name), n) in _events)
        {
            agg.Add(Events, Dimensions.MiniProgramEvent, Value(mp, name), n);
            agg.Add(Events, Dimensions.Event, name, n);
        }
        foreach (var (_, mp, name) in _programUsers) agg.Add(Users, Dimensions.MiniProgramEvent, Value(mp, name), 1);
        foreach (var (_, name) in _users) agg.Add(Users, Dimensions.Event, name, 1);
        foreach (var ((_, mp), name) in _greatestInProgram) agg.Add(GreatestOf, Dimensions.MiniProgramEvent, Value(mp, name), 1);
        foreach (var (_, name) in _greatest) agg.Add(GreatestOf, Dimensions.Event, name, 1);
    }

    private static string Value(string miniProgram, string name) => string.Concat(miniProgram, "/", name);

    /// <summary>The day's <c>custom.events</c> and <c>custom.users</c> rows by name, from the merged counters, caps applied.</summary>
    /// <param name="values">The merged counters of one internal quantity and dimension (value, count).</param>
    /// <param name="add">Writes one row.</param>
    public static void WriteRows(
        Func<string, string, IReadOnlyList<KeyValuePair<string, long>>> values,
        Action<MetricDefinition, string, string, double> add)
    {
        var events = MetricCatalog.Get("custom.events");
        var users = MetricCatalog.Get("custom.users");

        // Ecosystem: one group of names.
        Write(Dimensions.Event, [new Group("", values(Events, Dimensions.Event))], CustomEventCaps.Ecosystem);

        // Per mini-program: the names grouped by the mini-program before the '/'.
        var byProgram = new Dictionary<string, List<KeyValuePair<string, long>>>(StringComparer.Ordinal);
        foreach (var (value, n) in values(Events, Dimensions.MiniProgramEvent))
        {
            var slash = value.IndexOf('/');
            ref var list = ref CollectionsMarshal.GetValueRefOrAddDefault(byProgram, value[..slash], out _);
            (list ??= []).Add(new(value[(slash + 1)..], n));
        }
        Write(Dimensions.MiniProgramEvent, byProgram.Select(kv => new Group(kv.Key + "/", kv.Value)), CustomEventCaps.PerMiniProgram);

        void Write(string dimension, IEnumerable<Group> groups, int cap)
        {
            var userCounts = ToMap(values(Users, dimension));
            var greatest = ToMap(values(GreatestOf, dimension));
            foreach (var (prefix, names) in groups)
            {
                var sorted = names.Where(kv => kv.Value != 0).OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
                long otherEvents = 0, otherUsers = 0;
                for (var i = 0; i < sorted.Count; i++)
                {
                    var (name, n) = sorted[i];
                    var value = prefix + name;
                    if (i < cap)
                    {
                        add(events, dimension, value, n);
                        if (userCounts.GetValueOrDefault(value) is var u and not 0) add(users, dimension, value, u);
                    }
                    else
                    {
                        otherEvents += n;
                        otherUsers += greatest.GetValueOrDefault(value); // users whose greatest name is past the kept prefix
                    }
                }
                if (otherEvents != 0) add(events, dimension, prefix + CustomEventCaps.Other, otherEvents);
                if (otherUsers != 0) add(users, dimension, prefix + CustomEventCaps.Other, otherUsers);
            }
        }
    }

    private readonly record struct Group(string Prefix, IReadOnlyList<KeyValuePair<string, long>> Names);

    private static Dictionary<string, long> ToMap(IReadOnlyList<KeyValuePair<string, long>> values)
    {
        var map = new Dictionary<string, long>(values.Count, StringComparer.Ordinal);
        foreach (var (k, v) in values) map[k] = v;
        return map;
    }
}
