namespace Pipeline.Infra.Tests;

/// <summary>Every template and parameter file compiles, and the strict linter (infra/bicepconfig.json) has nothing to say.</summary>
public sealed class CompilationTests
{
    private static InfraBuild Build => InfraBuild.Instance;

    [Fact]
    public void Infra_has_the_expected_entry_points()
    {
        Assert.Contains("main.bicep", InfraFiles.Templates);
        Assert.Contains("rbac.bicep", InfraFiles.Templates);
        Assert.Contains("main.dev.bicepparam", InfraFiles.ParameterFiles);
        Assert.Contains("main.prod.bicepparam", InfraFiles.ParameterFiles);
        Assert.True(File.Exists(Path.Combine(BicepCli.InfraDirectory, "bicepconfig.json")), "infra/bicepconfig.json is missing.");
    }

    [Theory]
    [MemberData(nameof(InfraFiles.AllRows), MemberType = typeof(InfraFiles))]
    public void File_compiles(string file)
    {
        var build = Build.Builds[file];
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.True(File.Exists(Build.OutputPath(file)), $"No output for infra/{file}: {build}");
    }

    [Theory]
    [MemberData(nameof(InfraFiles.AllRows), MemberType = typeof(InfraFiles))]
    public void File_compiles_without_warnings(string file)
    {
        var build = Build.Builds[file];
        var diagnostics = build.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => line.Contains(" : Warning ", StringComparison.Ordinal) || line.Contains(" : Error ", StringComparison.Ordinal))
            .ToList();
        Assert.True(diagnostics.Count == 0, string.Join(Environment.NewLine, diagnostics));
    }

    [Fact]
    public void Lint_of_every_file_exits_zero()
    {
        Assert.True(Build.Lint.ExitCode == 0, Build.Lint.ToString());
    }

    [Fact]
    public void Lint_output_has_no_diagnostics_at_all()
    {
        var lines = Build.Lint.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 0, Build.Lint.ToString());
    }

    [Theory]
    [MemberData(nameof(InfraFiles.AllRows), MemberType = typeof(InfraFiles))]
    public void File_is_clean_under_the_linter(string file)
    {
        var diagnostics = Build.LintDiagnosticsFor(file);
        Assert.True(diagnostics.Count == 0, string.Join(Environment.NewLine, diagnostics));
    }

    [Theory]
    [InlineData("outputs-should-not-contain-secrets")]
    [InlineData("secure-parameter-default")]
    [InlineData("secure-secrets-in-params")]
    [InlineData("use-secure-value-for-secure-inputs")]
    [InlineData("protect-commandtoexecute-secrets")]
    [InlineData("secure-params-in-nested-deploy")]
    [InlineData("no-unused-params")]
    [InlineData("no-unused-vars")]
    [InlineData("no-unused-existing-resources")]
    [InlineData("no-unused-imports")]
    [InlineData("no-unused-functions")]
    [InlineData("no-unused-types")]
    [InlineData("no-hardcoded-env-urls")]
    public void Linter_rule_is_an_error(string rule)
    {
        var config = System.Text.Json.Nodes.JsonNode.Parse(
            File.ReadAllText(Path.Combine(BicepCli.InfraDirectory, "bicepconfig.json")),
            documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true })!;
        Assert.True((bool?)config["analyzers"]?["core"]?["enabled"] ?? true, "The core analyzers are disabled.");
        Assert.Equal("error", (string?)config["analyzers"]?["core"]?["rules"]?[rule]?["level"]);
    }
}
