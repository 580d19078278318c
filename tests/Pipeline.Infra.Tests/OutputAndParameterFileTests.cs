using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Pipeline.Infra.Tests;

/// <summary>No output of any template (main or module) carries a secret; the parameter files set only parameters main.bicep declares.</summary>
public sealed partial class OutputAndParameterFileTests
{
    private static ArmTemplate Main => InfraBuild.Instance.Main;

    public static IEnumerable<object[]> OutputRows =>
        InfraBuild.Instance.Main.AllTemplates().SelectMany(t => t.Outputs.Select(o => new object[] { t.Name, o.Key }));

    public static IEnumerable<object[]> MainParameterRows =>
        InfraBuild.Instance.Main.ParameterDefinitions.Select(p => new object[] { p.Key });

    [Fact]
    public void Main_has_outputs()
    {
        Assert.NotEmpty(Main.Outputs);
    }

    [Theory]
    [MemberData(nameof(OutputRows))]
    public void Output_holds_no_secret(string template, string output)
    {
        var definition = Main.AllTemplates().Single(t => t.Name == template).Outputs[output]!;
        var value = definition["value"]?.ToJsonString() ?? "";
        var type = (string?)definition["type"] ?? "";

        Assert.DoesNotMatch(SecretName(), output);
        Assert.DoesNotMatch(ListFunction(), value);
        Assert.DoesNotMatch(SecretValue(), value);
        Assert.False(type.StartsWith("secure", StringComparison.OrdinalIgnoreCase), $"{template}/{output} is of type {type}.");
    }

    [Theory]
    [MemberData(nameof(MainParameterRows))]
    public void Parameter_is_documented(string parameter)
    {
        var description = (string?)Main.ParameterDefinitions[parameter]?["metadata"]?["description"];
        Assert.False(string.IsNullOrWhiteSpace(description), $"main.bicep parameter {parameter} has no @description.");
        var doc = File.ReadAllText(Path.Combine(BicepCli.RepositoryRoot, "docs", "deploy.md"));
        Assert.Contains($"`{parameter}`", doc);
    }

    [Theory]
    [MemberData(nameof(InfraFiles.ParameterFileRows), MemberType = typeof(InfraFiles))]
    public void Parameter_file_sets_only_declared_parameters(string file)
    {
        var parameters = InfraBuild.Instance.Parameters(file);
        var undeclared = parameters.Select(p => p.Key).Where(name => !Main.ParameterDefinitions.ContainsKey(name)).ToList();
        Assert.True(undeclared.Count == 0, $"{file} sets parameters main.bicep does not declare: {string.Join(", ", undeclared)}.");
    }

    [Theory]
    [MemberData(nameof(InfraFiles.ParameterFileRows), MemberType = typeof(InfraFiles))]
    public void Parameter_file_sets_every_required_parameter(string file)
    {
        var parameters = InfraBuild.Instance.Parameters(file);
        var required = Main.ParameterDefinitions.Where(p => p.Value?["defaultValue"] is null).Select(p => p.Key);
        var missing = required.Where(name => !parameters.ContainsKey(name)).ToList();
        Assert.True(missing.Count == 0, $"{file} leaves required parameters unset: {string.Join(", ", missing)}.");
    }

    [Theory]
    [MemberData(nameof(InfraFiles.ParameterFileRows), MemberType = typeof(InfraFiles))]
    public void Parameter_file_values_are_allowed(string file)
    {
        foreach (var (name, entry) in InfraBuild.Instance.Parameters(file))
        {
            var definition = Main.ParameterDefinitions[name];
            var value = entry?["value"];
            if (definition?["allowedValues"] is JsonArray allowed)
                Assert.True(allowed.Any(a => JsonNode.DeepEquals(a, value)), $"{file}: {name} = {value?.ToJsonString()} is not one of {allowed.ToJsonString()}.");
            if (definition?["minValue"] is JsonValue min)
                Assert.True((long)value! >= (long)min, $"{file}: {name} = {value} is below {min}.");
            if (definition?["maxValue"] is JsonValue max)
                Assert.True((long)value! <= (long)max, $"{file}: {name} = {value} is above {max}.");
        }
    }

    [Theory]
    [MemberData(nameof(InfraFiles.ParameterFileRows), MemberType = typeof(InfraFiles))]
    public void Parameter_file_rollup_schedule_is_ncrontab_with_seconds(string file)
    {
        var schedule = (string?)InfraBuild.Instance.Parameters(file)["rollupSchedule"]?["value"]
            ?? (string?)Main.ParameterDefinitions["rollupSchedule"]?["defaultValue"];
        Assert.Equal(6, schedule!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Theory]
    [MemberData(nameof(InfraFiles.ParameterFileRows), MemberType = typeof(InfraFiles))]
    public void Parameter_file_holds_no_secret(string file)
    {
        var text = File.ReadAllText(InfraFiles.FullPath(file));
        Assert.DoesNotMatch(SecretValue(), text);
        Assert.DoesNotContain("AccountKey=", text, StringComparison.OrdinalIgnoreCase);
    }

    [GeneratedRegex("(?i)password|secret|connectionstring|accountkey|accesskey|apikey|instrumentationkey|sas(token|url)|token")]
    private static partial Regex SecretName();

    [GeneratedRegex(@"(?i)\blist[A-Za-z]*\(")]
    private static partial Regex ListFunction();

    [GeneratedRegex(@"(?i)connectionstring|instrumentationkey|accountkey|primarykey|secondarykey|primarymasterkey|password|secretvalue|properties\.value|\.secret|sharedaccess")]
    private static partial Regex SecretValue();
}
