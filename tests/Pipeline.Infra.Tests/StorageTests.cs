using Pipeline.Storage;
using System.Text.Json.Nodes;

namespace Pipeline.Infra.Tests;

/// <summary>The storage account: hardened, with every container, queue and table the code uses, soft delete and the lifecycle rule.</summary>
public sealed class StorageTests
{
    private static ArmTemplate Main => InfraBuild.Instance.Main;

    private static ArmResource Account => Main.Single("Microsoft.Storage/storageAccounts");

    private static ArmTemplate StorageModule => Main.AllTemplates().Single(t => t.Resources.Any(r => ReferenceEquals(r.Json, Account.Json)));

    [Theory]
    [InlineData("allowSharedKeyAccess", false)]
    [InlineData("supportsHttpsTrafficOnly", true)]
    [InlineData("allowBlobPublicAccess", false)]
    [InlineData("defaultToOAuthAuthentication", true)]
    [InlineData("allowCrossTenantReplication", false)]
    public void Account_flag(string property, bool expected)
    {
        var value = Account.At($"properties.{property}");
        Assert.True(value is JsonValue v && v.TryGetValue<bool>(out var actual) && actual == expected,
            $"properties.{property} is {value?.ToJsonString() ?? "missing"}, expected {expected.ToString().ToLowerInvariant()}.");
    }

    [Fact]
    public void Account_requires_tls_1_2()
    {
        Assert.Equal("TLS1_2", (string?)Account.At("properties.minimumTlsVersion"));
    }

    [Fact]
    public void Account_is_general_purpose_v2()
    {
        Assert.Equal("StorageV2", (string?)Account.Json["kind"]);
    }

    [Fact]
    public void Blob_soft_delete_is_on()
    {
        var blob = Main.Single("Microsoft.Storage/storageAccounts/blobServices");
        Assert.True((bool?)blob.At("properties.deleteRetentionPolicy.enabled"), "Blob soft delete is off.");
        Assert.NotNull(blob.At("properties.deleteRetentionPolicy.days"));
    }

    [Fact]
    public void Container_soft_delete_is_on()
    {
        var blob = Main.Single("Microsoft.Storage/storageAccounts/blobServices");
        Assert.True((bool?)blob.At("properties.containerDeleteRetentionPolicy.enabled"), "Container soft delete is off.");
    }

    [Fact]
    public void The_containers_are_the_codes()
    {
        // Compared with the names the code uses (StorageNames), not with a copy of them.
        Assert.Equal(StorageNames.Containers.Order(StringComparer.Ordinal), StringsOf(StorageModule.Variables["pipelineContainers"]).Order(StringComparer.Ordinal));
        Assert.Single(Main.OfType("Microsoft.Storage/storageAccounts/blobServices/containers"));
    }

    [Fact]
    public void Containers_are_private()
    {
        var containers = Main.Single("Microsoft.Storage/storageAccounts/blobServices/containers");
        Assert.Equal("None", (string?)containers.At("properties.publicAccess"));
    }

    [Fact]
    public void Deployment_container_is_created_with_the_pipeline_containers()
    {
        var containers = Main.Single("Microsoft.Storage/storageAccounts/blobServices/containers");
        var count = (string?)containers.Json["copy"]?["count"];
        Assert.Contains("variables('pipelineContainers')", count);
        Assert.Contains("parameters('deploymentContainerName')", count);
        var deploymentContainer = (string?)StorageModule.ArgumentOf("deploymentContainerName");
        Assert.False(string.IsNullOrEmpty(deploymentContainer));
    }

    [Fact]
    public void The_queues_are_the_codes()
    {
        Assert.Equal(StorageNames.Queues.Order(StringComparer.Ordinal), StringsOf(StorageModule.Variables["queues"]).Order(StringComparer.Ordinal));
        var queues = Main.Single("Microsoft.Storage/storageAccounts/queueServices/queues");
        Assert.Contains("variables('queues')", (string?)queues.Json["copy"]?["count"]);
    }

    [Fact]
    public void The_tables_are_the_codes()
    {
        Assert.Equal(StorageNames.Tables.Order(StringComparer.Ordinal), StringsOf(StorageModule.Variables["tables"]).Order(StringComparer.Ordinal));
        var tables = Main.Single("Microsoft.Storage/storageAccounts/tableServices/tables");
        Assert.Contains("variables('tables')", (string?)tables.Json["copy"]?["count"]);
    }

    [Fact]
    public void Lifecycle_rule_expires_landing_and_rejected_blobs()
    {
        var rule = LifecycleRule();
        Assert.True((bool?)rule["enabled"]);
        var prefixes = StringsOf(rule["definition"]?["filters"]?["prefixMatch"]);
        Assert.Equal(new[] { "landing/", "rejected/" }, prefixes.Order(StringComparer.Ordinal));
        Assert.Contains("blockBlob", StringsOf(rule["definition"]?["filters"]?["blobTypes"]));
    }

    [Fact]
    public void Lifecycle_rule_days_come_from_a_parameter_of_main()
    {
        var days = LifecycleRule()["definition"]?["actions"]?["baseBlob"]?["delete"]?["daysAfterModificationGreaterThan"];
        var origin = StorageModule.RootParameterOf(days);
        Assert.True(origin is not null, $"daysAfterModificationGreaterThan is {days?.ToJsonString()}, not a parameter of main.bicep.");
        Assert.Equal("expireLandingAndRejectedAfterDays", origin.Value.Parameter);
        Assert.Equal("int", (string?)Main.ParameterDefinitions["expireLandingAndRejectedAfterDays"]?["type"]);
        Assert.NotNull(Main.ParameterDefinitions["expireLandingAndRejectedAfterDays"]?["defaultValue"]);
    }

    private static JsonNode LifecycleRule()
    {
        var policy = Main.Single("Microsoft.Storage/storageAccounts/managementPolicies");
        var rules = policy.At("properties.policy.rules")?.AsArray() ?? [];
        return rules.Single(r => StringsOf(r?["definition"]?["filters"]?["prefixMatch"]).Contains("landing/"))!;
    }

    private static List<string> StringsOf(JsonNode? node) =>
        node is JsonArray array ? array.Select(n => (string?)n ?? "").ToList() : [];
}
