using System.Text.Json.Nodes;

namespace Pipeline.Infra.Tests;

/// <summary>The three alert rules and the action group that mails the operator.</summary>
public sealed class AlertTests
{
    private static ArmTemplate Main => InfraBuild.Instance.Main;

    private static IReadOnlyList<ArmResource> Rules => Main.OfType("Microsoft.Insights/scheduledQueryRules");

    private static ArmResource RuleNamed(string suffix)
    {
        var matching = Rules.Where(r => ((string?)r.Json["name"] ?? "").Contains(suffix, StringComparison.Ordinal)).ToList();
        return matching.Count == 1 ? matching[0] : throw new Xunit.Sdk.XunitException($"Expected one scheduled query rule named *{suffix}*, found {matching.Count}.");
    }

    private static string QueryOf(ArmResource rule) => (string?)(rule.At("properties.criteria.allOf") as JsonArray)?[0]?["query"] ?? "";

    private static JsonNode? Criterion(ArmResource rule) => (rule.At("properties.criteria.allOf") as JsonArray)?[0];

    [Fact]
    public void Action_group_mails_the_address_from_a_parameter()
    {
        var group = Main.Single("Microsoft.Insights/actionGroups");
        Assert.True((bool?)group.At("properties.enabled"));
        var receivers = group.At("properties.emailReceivers") as JsonArray;
        Assert.NotNull(receivers);
        var receiver = Assert.Single(receivers);
        var module = Main.OwnerOf(group);
        Assert.Equal("alertEmailAddress", module.RootParameterOf(receiver?["emailAddress"])?.Parameter);
    }

    [Theory]
    [InlineData("-poison-queue")]
    [InlineData("-ingest-5xx")]
    [InlineData("-rollup-missing")]
    public void Alert_exists_enabled_and_notifies_the_action_group(string suffix)
    {
        var rule = RuleNamed(suffix);
        Assert.True((bool?)rule.At("properties.enabled"), $"{suffix} is disabled.");
        var groups = rule.At("properties.actions.actionGroups") as JsonArray;
        Assert.NotNull(groups);
        Assert.Contains(groups, g => ((string?)g ?? "").Contains("Microsoft.Insights/actionGroups", StringComparison.Ordinal));
        Assert.False(string.IsNullOrWhiteSpace(QueryOf(rule)));
    }

    [Fact]
    public void Poison_queue_alert_reads_queue_writes_to_poison_queues()
    {
        var rule = RuleNamed("-poison-queue");
        var query = QueryOf(rule);
        Assert.Contains("StorageQueueLogs", query);
        Assert.Contains("PutMessage", query);
        Assert.Contains("-poison", query);
        Assert.Contains("Microsoft.OperationalInsights/workspaces", ScopeOf(rule));
        Assert.Equal("GreaterThan", (string?)Criterion(rule)?["operator"]);
        Assert.Equal(0, (int?)Criterion(rule)?["threshold"]);
    }

    [Fact]
    public void Ingest_5xx_alert_reads_ingest_requests_against_a_parameterised_threshold()
    {
        var rule = RuleNamed("-ingest-5xx");
        var query = QueryOf(rule);
        Assert.Contains("requests", query);
        Assert.Contains("IngestEvents", query);
        Assert.Contains("resultCode", query);
        Assert.Contains(">= 500", query);
        Assert.Contains("parameters('ingest5xxThresholdPercent')", query);
        Assert.Equal("ingest5xxThresholdPercent", Main.OwnerOf(rule).RootParameterOf(JsonValue.Create("[parameters('ingest5xxThresholdPercent')]"))?.Parameter);
        Assert.Contains("Microsoft.Insights/components", ScopeOf(rule));
    }

    [Fact]
    public void Rollup_alert_fires_when_no_successful_daily_rollup_in_26_hours()
    {
        var rule = RuleNamed("-rollup-missing");
        var query = QueryOf(rule);
        Assert.Contains("requests", query);
        Assert.Contains("ago(26h)", query);
        Assert.Contains("\"DailyRollup\"", query);
        Assert.Contains("success == true", query);
        Assert.Contains("count()", query);
        Assert.Equal("LessThan", (string?)Criterion(rule)?["operator"]);
        Assert.Equal(1, (int?)Criterion(rule)?["threshold"]);
        Assert.Contains("Microsoft.Insights/components", ScopeOf(rule));
    }

    [Fact]
    public void Rollup_alert_window_covers_26_hours()
    {
        var window = System.Xml.XmlConvert.ToTimeSpan((string?)RuleNamed("-rollup-missing").At("properties.windowSize") ?? "PT0S");
        Assert.True(window >= TimeSpan.FromHours(26), $"windowSize {window} is shorter than 26 hours.");
    }

    private static string ScopeOf(ArmResource rule)
    {
        var scope = (string?)(rule.At("properties.scopes") as JsonArray)?[0] ?? "";
        // The scope is a module parameter: follow it to what main.bicep passes.
        var module = Main.OwnerOf(rule);
        var name = scope.Replace("[parameters('", "").Replace("')]", "");
        var argument = (string?)module.ArgumentOf(name) ?? scope;
        // main.bicep passes another module's output: read what that output is.
        var output = System.Text.RegularExpressions.Regex.Match(argument, @"reference\('([^']+)'\)\.outputs\.([A-Za-z0-9_]+)\.value");
        return output.Success
            ? (string?)Main.Modules.Single(m => m.Name == output.Groups[1].Value).Outputs[output.Groups[2].Value]?["value"] ?? argument
            : argument;
    }
}
