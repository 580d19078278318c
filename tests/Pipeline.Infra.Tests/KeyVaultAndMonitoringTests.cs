using System.Text.Json.Nodes;

namespace Pipeline.Infra.Tests;

/// <summary>Key Vault in RBAC mode with purge protection; Log Analytics and workspace-based Application Insights with local auth off.</summary>
public sealed class KeyVaultAndMonitoringTests
{
    private static ArmTemplate Main => InfraBuild.Instance.Main;

    private static ArmResource Vault => Main.Single("Microsoft.KeyVault/vaults");

    private static ArmResource Insights => Main.Single("Microsoft.Insights/components");

    [Theory]
    [InlineData("enableRbacAuthorization", true)]
    [InlineData("enablePurgeProtection", true)]
    [InlineData("enableSoftDelete", true)]
    [InlineData("enabledForTemplateDeployment", false)]
    public void Key_vault_flag(string property, bool expected)
    {
        var value = Vault.At($"properties.{property}");
        Assert.True(value is JsonValue v && v.TryGetValue<bool>(out var actual) && actual == expected,
            $"properties.{property} is {value?.ToJsonString() ?? "missing"}, expected {expected.ToString().ToLowerInvariant()}.");
    }

    [Fact]
    public void Key_vault_has_no_access_policies()
    {
        Assert.True(Vault.At("properties.accessPolicies") is null or JsonArray { Count: 0 }, "RBAC mode: access policies are not used.");
    }

    [Fact]
    public void No_template_creates_or_outputs_the_secret_value()
    {
        // The operator sets the pseudonymisation key (docs/deploy.md); no parameter carries it.
        Assert.Empty(Main.OfType("Microsoft.KeyVault/vaults/secrets"));
    }

    [Fact]
    public void Application_insights_has_local_auth_disabled()
    {
        Assert.True((bool?)Insights.At("properties.DisableLocalAuth"), "Application Insights accepts instrumentation-key ingestion.");
    }

    [Fact]
    public void Application_insights_is_workspace_based()
    {
        Assert.Contains("Microsoft.OperationalInsights/workspaces", (string?)Insights.At("properties.WorkspaceResourceId"));
        Assert.Equal("LogAnalytics", (string?)Insights.At("properties.IngestionMode"));
    }

    [Fact]
    public void Log_analytics_workspace_exists_with_retention_from_a_parameter()
    {
        var workspace = Main.Single("Microsoft.OperationalInsights/workspaces");
        var module = Main.AllTemplates().Single(t => t.Resources.Any(r => ReferenceEquals(r.Json, workspace.Json)));
        Assert.Equal("logRetentionDays", module.RootParameterOf(workspace.At("properties.retentionInDays"))?.Parameter);
    }

    [Theory]
    [InlineData("Microsoft.Storage/storageAccounts/blobServices", "StorageWrite")]
    [InlineData("Microsoft.Storage/storageAccounts/queueServices", "StorageWrite")]
    [InlineData("Microsoft.Storage/storageAccounts/tableServices", "StorageWrite")]
    [InlineData("Microsoft.KeyVault/vaults", "audit")]
    public void Diagnostic_setting_sends_service_logs_to_log_analytics(string scopeType, string category)
    {
        var settings = Main.OfType("Microsoft.Insights/diagnosticSettings")
            .Where(d => ((string?)d.Json["scope"] ?? "").Contains($"'{scopeType}'", StringComparison.Ordinal))
            .ToList();
        Assert.True(settings.Count == 1, $"Expected one diagnostic setting on {scopeType}, found {settings.Count}.");
        Assert.NotNull(settings[0].At("properties.workspaceId"));
        var logs = Main.OwnerOf(settings[0]).Resolve(settings[0].At("properties.logs")) as JsonArray ?? [];
        Assert.Contains(logs,
            l => ((string?)l?["category"] == category || (string?)l?["categoryGroup"] == category) && (bool?)l?["enabled"] == true);
    }
}
