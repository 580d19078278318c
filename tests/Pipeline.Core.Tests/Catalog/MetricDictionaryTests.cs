using Pipeline.Core.Catalog;

namespace Pipeline.Core.Tests.Catalog;

public sealed class MetricDictionaryTests
{
    [Fact]
    public void The_checked_in_dictionary_is_the_catalog_rendered()
    {
        var path = Path.Combine(RepoRoot(), "docs", "metrics.md");
        Assert.True(File.Exists(path), $"docs/metrics.md is missing; generate it with: {MetricDictionary.RegenerateCommand}");
        var checkedIn = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.True(checkedIn == MetricDictionary.Render(),
            $"docs/metrics.md is out of date with the metric catalog; regenerate it with: {MetricDictionary.RegenerateCommand}");
    }

    [Fact]
    public void The_dictionary_lists_every_metric_of_the_catalog_once()
    {
        var text = MetricDictionary.Render();
        foreach (var metric in MetricCatalog.All)
            Assert.Single(text.Split('\n'), line => line.StartsWith($"| `{metric.Id}` |", StringComparison.Ordinal));
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) return dir.FullName;
        throw new InvalidOperationException("Pipeline.sln not found above the test binaries.");
    }
}
