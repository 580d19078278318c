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
    [InlineData("Microsoft.Storage/storageAccounts")]
    [InlineData("Microsoft.Storage/storageAccounts/blobServices")]
    [InlineData("Microsoft.Storage/storageAccounts/queueServices")]
    [InlineData("Microsoft.Storage/storageAccounts/tableServices")]
    [InlineData("Microsoft.KeyVault/vaults")]
    [InlineData("Microsoft.Web/sites")]
    public void Diagnostic_setting_sends_to_log_analytics(string scopeType)
    {
        var setting = DiagnosticSettingOn(scopeType);
        Assert.Contains("Microsoft.OperationalInsights/workspaces", WorkspaceOf(setting));
    }

    [Theory]
    [InlineData("Microsoft.Storage/storageAccounts/queueServices", "StorageWrite")]
    [InlineData("Microsoft.KeyVault/vaults", "audit")]
    [InlineData("Microsoft.Web/sites", "FunctionAppLogs")]
    public void Diagnostic_setting_collects_logs(string scopeType, string category)
    {
        var setting = DiagnosticSettingOn(scopeType);
        var logs = Main.OwnerOf(setting).Resolve(setting.At("properties.logs")) as JsonArray ?? [];
        Assert.Contains(logs,
            l => ((string?)l?["category"] == category || (string?)l?["categoryGroup"] == category) && (bool?)l?["enabled"] == true);
    }

    [Theory]
    [InlineData("Microsoft.Storage/storageAccounts")]
    [InlineData("Microsoft.Storage/storageAccounts/blobServices")]
    [InlineData("Microsoft.Storage/storageAccounts/queueServices")]
    [InlineData("Microsoft.Storage/storageAccounts/tableServices")]
    public void Diagnostic_setting_collects_storage_transaction_metrics(string scopeType)
    {
        var setting = DiagnosticSettingOn(scopeType);
        var metrics = Main.OwnerOf(setting).Resolve(setting.At("properties.metrics")) as JsonArray ?? [];
        Assert.Contains(metrics, m => (string?)m?["category"] == "Transaction" && (bool?)m?["enabled"] == true);
    }

    private static ArmResource DiagnosticSettingOn(string scopeType)
    {
        var settings = Main.OfType("Microsoft.Insights/diagnosticSettings")
            .Where(d => ((string?)d.Json["scope"] ?? "").Contains($"'{scopeType}'", StringComparison.Ordinal))
            .ToList();
        return settings.Count == 1 ? settings[0] : throw new Xunit.Sdk.XunitException($"Expected one diagnostic setting on {scopeType}, found {settings.Count}.");
    }

    /// <summary>The workspace a diagnostic setting names, followed through module parameters and outputs.</summary>
    private static string WorkspaceOf(ArmResource setting)
    {
        var module = Main.OwnerOf(setting);
        var value = (string?)setting.At("properties.workspaceId") ?? "";
        var name = System.Text.RegularExpressions.Regex.Match(value, @"^\[parameters\('([^']+)'\)\]$");
        if (name.Success) value = (string?)module.ArgumentOf(name.Groups[1].Value) ?? value;
        var output = System.Text.RegularExpressions.Regex.Match(value, @"reference\('([^']+)'\)\.outputs\.([A-Za-z0-9_]+)\.value");
        return output.Success
            ? (string?)Main.Modules.Single(m => m.Name == output.Groups[1].Value).Outputs[output.Groups[2].Value]?["value"] ?? value
            : value;
    }
}
