using Pipeline.Core.Catalog;
using Pipeline.Integration.Tests.Faults;

namespace Pipeline.Integration.Tests.EndToEnd;

/// <summary>
/// The <c>dictionary</c> verb as an analyst runs it: the built runner (<c>pipeline.dll dictionary</c>) in its own process,
/// no storage needed. It must print every metric of catalog version 2, once, with its dimensions in the catalog's order
/// (the dimensions themselves are pinned against the spec by <c>MetricCatalogDimensionTableTests</c> in the core tests),
/// and <c>--out</c> must write the same text to the file instead.
/// </summary>
public sealed class DictionaryCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("pipeline-dictionary-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly Dictionary<string, string?> NoStorage = new();

    /// <summary>The table rows of a rendered dictionary: metric id and the dimensions cell, split.</summary>
    private static List<(string Id, string[] Dimensions)> MetricLines(string text) =>
        text.ReplaceLineEndings("\n").Split('\n')
            .Where(l => l.StartsWith("| `", StringComparison.Ordinal))
            .Select(l => l.Split(" | "))
            .Select(cells => (cells[0].TrimStart('|', ' ').Trim('`'), cells[3].Split(", ").Select(d => d.Trim('`')).ToArray()))
            .ToList();

    [Fact]
    public async Task Prints_every_v2_metric_once_with_its_dimensions()
    {
        await using var verb = RunnerProcess.Start(NoStorage, "dictionary");
        Assert.True(await verb.WaitForExitAsync(TimeSpan.FromMinutes(1)) == 0, verb.Output);

        var lines = MetricLines(verb.Output);
        Assert.Equal(2, MetricCatalog.Version);
        Assert.Equal(96, lines.Count);
        Assert.Equal(MetricCatalog.All.Select(m => m.Id), lines.Select(l => l.Id));
        foreach (var metric in MetricCatalog.All)
            Assert.Equal(metric.Dimensions, Assert.Single(lines, l => l.Id == metric.Id).Dimensions);
        // Spot checks of the spec's longest and v2-only dimension lists, in the printed form.
        Assert.Contains("| `users.sessions` | supporting | sessions | `total`, `miniProgram`, `channel`, `source`, `platform`, `miniProgram.channel`, `miniProgram.source`, `miniProgram.platform` |", verb.Output);
        Assert.Contains("| `users.referred_sessions` | supporting | sessions | `total`, `miniProgram.referrer` |", verb.Output);
        Assert.Contains("| `users.retention_m1` | supporting | ratio | `total`, `miniProgram` |", verb.Output);
    }

    [Fact]
    public async Task With_out_it_writes_the_same_dictionary_to_the_file()
    {
        string printed;
        await using (var verb = RunnerProcess.Start(NoStorage, "dictionary"))
        {
            Assert.True(await verb.WaitForExitAsync(TimeSpan.FromMinutes(1)) == 0, verb.Output);
            printed = verb.Output;
        }
        var path = Path.Combine(_folder, "metrics.md");
        await using (var verb = RunnerProcess.Start(NoStorage, "dictionary", "--out", path))
        {
            Assert.True(await verb.WaitForExitAsync(TimeSpan.FromMinutes(1)) == 0, verb.Output);
            Assert.Empty(MetricLines(verb.Output));
        }
        var written = await File.ReadAllTextAsync(path);
        Assert.Equal(MetricDictionary.Render(), written);
        Assert.Equal(MetricLines(printed).Select(l => $"{l.Id}: {string.Join(',', l.Dimensions)}"), MetricLines(written).Select(l => $"{l.Id}: {string.Join(',', l.Dimensions)}"));
        Assert.Equal(96, MetricLines(written).Count);
    }
}
