using System.Text.Json.Nodes;

namespace Pipeline.Infra.Tests;

/// <summary>The Flex Consumption plan and the function app: runtime, scale, deployment storage, identity and app settings.</summary>
public sealed class FunctionAppTests
{
    private static ArmTemplate Main => InfraBuild.Instance.Main;

    private static ArmResource Site => Main.Single("Microsoft.Web/sites");

    private static ArmTemplate AppModule => Main.AllTemplates().Single(t => t.Resources.Any(r => ReferenceEquals(r.Json, Site.Json)));

    private static JsonObject? FunctionAppConfig => Site.At("properties.functionAppConfig") as JsonObject;

    private static IReadOnlyDictionary<string, string> Settings =>
        (Site.At("properties.siteConfig.appSettings") as JsonArray ?? [])
            .ToDictionary(s => (string)s!["name"]!, s => s!["value"]?.ToJsonString() is { } json ? (string?)s["value"] ?? json : "", StringComparer.OrdinalIgnoreCase);

    [Fact]
    public void Plan_is_flex_consumption_fc1()
    {
        var plan = Main.Single("Microsoft.Web/serverfarms");
        Assert.Equal("FC1", (string?)plan.At("sku.name"));
        Assert.Equal("FlexConsumption", (string?)plan.At("sku.tier"));
        Assert.True((bool?)plan.At("properties.reserved"), "A Flex Consumption plan is Linux (reserved: true).");
    }

    [Fact]
    public void Site_is_a_linux_function_app_on_the_plan()
    {
        Assert.Equal("functionapp,linux", (string?)Site.Json["kind"]);
        Assert.Contains("Microsoft.Web/serverfarms", (string?)Site.At("properties.serverFarmId"));
    }

    [Fact]
    public void Site_is_https_only_with_tls_1_2()
    {
        Assert.True((bool?)Site.At("properties.httpsOnly"));
        Assert.Equal("1.2", (string?)Site.At("properties.siteConfig.minTlsVersion"));
    }

    [Fact]
    public void Runtime_is_dotnet_isolated_10()
    {
        Assert.Equal("dotnet-isolated", (string?)FunctionAppConfig?["runtime"]?["name"]);
        Assert.Equal("10.0", (string?)FunctionAppConfig?["runtime"]?["version"]);
    }

    [Theory]
    [InlineData("instanceMemoryMB", "instanceMemoryMB")]
    [InlineData("maximumInstanceCount", "maximumInstanceCount")]
    public void Scale_setting_comes_from_a_parameter_of_main(string property, string parameter)
    {
        var value = FunctionAppConfig?["scaleAndConcurrency"]?[property];
        var origin = AppModule.RootParameterOf(value);
        Assert.True(origin is not null, $"scaleAndConcurrency.{property} is {value?.ToJsonString()}, not a parameter of main.bicep.");
        Assert.Equal(parameter, origin.Value.Parameter);
        Assert.Equal("int", (string?)Main.ParameterDefinitions[parameter]?["type"]);
    }

    [Fact]
    public void Instance_memory_is_limited_to_the_flex_sizes()
    {
        var allowed = Main.ParameterDefinitions["instanceMemoryMB"]?["allowedValues"] as JsonArray;
        Assert.NotNull(allowed);
        Assert.All(allowed, v => Assert.Contains((int)v!, new[] { 512, 2048, 4096 }));
    }

    [Fact]
    public void Deployment_storage_is_a_blob_container()
    {
        var storage = FunctionAppConfig?["deployment"]?["storage"];
        Assert.Equal("blobContainer", (string?)storage?["type"]);
        Assert.Contains("primaryEndpoints.blob", (string?)storage?["value"]);
    }

    [Fact]
    public void Deployment_storage_authenticates_with_the_user_assigned_identity()
    {
        var authentication = FunctionAppConfig?["deployment"]?["storage"]?["authentication"];
        Assert.Equal("UserAssignedIdentity", (string?)authentication?["type"]);
        Assert.Equal("[parameters('identityId')]", (string?)authentication?["userAssignedIdentityResourceId"]);
        Assert.Null(authentication?["storageAccountConnectionStringName"]);
    }

    [Fact]
    public void Site_runs_as_the_user_assigned_identity()
    {
        Assert.Equal("UserAssigned", (string?)Site.At("identity.type"));
        var identities = Site.At("identity.userAssignedIdentities") as JsonObject;
        Assert.NotNull(identities);
        Assert.Contains(identities, kv => kv.Key.Contains("parameters('identityId')", StringComparison.Ordinal));
        Assert.Contains("Microsoft.ManagedIdentity/userAssignedIdentities", (string?)AppModule.ArgumentOf("identityId"));
    }

    [Fact]
    public void Key_vault_references_resolve_with_the_user_assigned_identity()
    {
        Assert.Equal("[parameters('identityId')]", (string?)Site.At("properties.keyVaultReferenceIdentity"));
    }

    [Theory]
    [InlineData("AzureWebJobsStorage__accountName")]
    [InlineData("AzureWebJobsStorage__credential")]
    [InlineData("AzureWebJobsStorage__clientId")]
    [InlineData("PipelineStorage__blobServiceUri")]
    [InlineData("PipelineStorage__queueServiceUri")]
    [InlineData("PipelineStorage__tableServiceUri")]
    [InlineData("PipelineStorage__credential")]
    [InlineData("PipelineStorage__clientId")]
    [InlineData("APPLICATIONINSIGHTS_CONNECTION_STRING")]
    [InlineData("APPLICATIONINSIGHTS_AUTHENTICATION_STRING")]
    [InlineData("Pipeline__ReportingTimeZone")]
    [InlineData("Pipeline__CommissionRate")]
    [InlineData("Pipeline__EventStoreShards")]
    [InlineData("Pipeline__PseudonymisationKey")]
    [InlineData("Pipeline__RateLimit__EventsPerSecond")]
    [InlineData("Pipeline__RateLimit__Burst")]
    [InlineData("Pipeline__MaxInstances")]
    [InlineData("Pipeline__Query__MinimumCellUsers")]
    [InlineData("RollupSchedule")]
    [InlineData("SweepSchedule")]
    public void App_setting_is_present(string name)
    {
        Assert.True(Settings.ContainsKey(name), $"App setting {name} is missing; present: {string.Join(", ", Settings.Keys)}.");
    }

    [Theory]
    [InlineData("AzureWebJobsStorage")]
    [InlineData("PipelineStorage")]
    [InlineData("FUNCTIONS_EXTENSION_VERSION")]
    [InlineData("FUNCTIONS_WORKER_RUNTIME")]
    [InlineData("WEBSITE_RUN_FROM_PACKAGE")]
    [InlineData("WEBSITE_CONTENTAZUREFILECONNECTIONSTRING")]
    [InlineData("WEBSITE_TIME_ZONE")]
    [InlineData("APPINSIGHTS_INSTRUMENTATIONKEY")]
    public void App_setting_is_absent(string name)
    {
        // Connection strings are replaced by identity settings; the rest are not used (or not
        // allowed) on Flex Consumption, where the runtime lives in functionAppConfig.
        Assert.False(Settings.ContainsKey(name), $"App setting {name} must not be set.");
    }

    [Theory]
    [InlineData("AccountKey=")]
    [InlineData("DefaultEndpointsProtocol=")]
    [InlineData("SharedAccessSignature=")]
    [InlineData("InstrumentationKey=")]
    [InlineData("listKeys(")]
    [InlineData("listAccountSas(")]
    [InlineData("listServiceSas(")]
    public void No_app_setting_value_holds_a_key(string marker)
    {
        var offending = Settings.Where(s => s.Value.Contains(marker, StringComparison.OrdinalIgnoreCase)).Select(s => s.Key).ToList();
        Assert.True(offending.Count == 0, $"App settings whose value contains '{marker}': {string.Join(", ", offending)}.");
    }

    [Theory]
    [InlineData("listKeys(")]
    [InlineData("AccountKey=")]
    [InlineData("DefaultEndpointsProtocol=")]
    public void No_template_anywhere_reads_or_builds_a_storage_key(string marker)
    {
        foreach (var file in InfraFiles.Templates)
        {
            var text = File.ReadAllText(InfraBuild.Instance.OutputPath(file));
            Assert.False(text.Contains(marker, StringComparison.OrdinalIgnoreCase), $"infra/{file} compiles to a template containing '{marker}'.");
        }
    }

    [Theory]
    [InlineData("AzureWebJobsStorage__credential")]
    [InlineData("PipelineStorage__credential")]
    public void Storage_connection_uses_the_managed_identity(string name)
    {
        Assert.Equal("managedidentity", Settings[name]);
    }

    [Theory]
    [InlineData("AzureWebJobsStorage__clientId")]
    [InlineData("PipelineStorage__clientId")]
    public void Storage_connection_names_the_identity_client_id(string name)
    {
        Assert.Equal("[parameters('identityClientId')]", Settings[name]);
        Assert.Contains("clientId", (string?)AppModule.ArgumentOf("identityClientId"));
    }

    [Theory]
    [InlineData("PipelineStorage__blobServiceUri", "primaryEndpoints.blob")]
    [InlineData("PipelineStorage__queueServiceUri", "primaryEndpoints.queue")]
    [InlineData("PipelineStorage__tableServiceUri", "primaryEndpoints.table")]
    public void Pipeline_storage_service_uri_is_the_account_endpoint(string name, string endpoint)
    {
        Assert.Contains(endpoint, Settings[name]);
    }

    [Fact]
    public void Pseudonymisation_key_is_a_key_vault_reference_to_its_secret()
    {
        var value = Settings["Pipeline__PseudonymisationKey"];
        Assert.Contains("@Microsoft.KeyVault(SecretUri=", value);
        Assert.Contains("secrets/pseudonymisation-key)", value);
        Assert.Contains("vaultUri", (string?)AppModule.ArgumentOf("keyVaultUri"));
    }

    [Fact]
    public void Application_insights_authenticates_with_entra_id()
    {
        var value = Settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"];
        Assert.Contains("Authorization=AAD", value);
        Assert.Contains("ClientId={0}", value);
        Assert.Contains("parameters('identityClientId')", value);
    }

    [Fact]
    public void Application_insights_connection_string_comes_from_the_component()
    {
        Assert.Contains("ConnectionString", Settings["APPLICATIONINSIGHTS_CONNECTION_STRING"]);
    }

    [Theory]
    [InlineData("Pipeline__ReportingTimeZone", "reportingTimeZone", "Asia/Shanghai")]
    [InlineData("Pipeline__CommissionRate", "commissionRate", "0.006")]
    [InlineData("Pipeline__EventStoreShards", "eventStoreShards", "16")]
    [InlineData("RollupSchedule", "rollupSchedule", "0 30 16 * * *")]
    [InlineData("Pipeline__RateLimit__EventsPerSecond", "rateLimitEventsPerSecond", "5000")]
    [InlineData("Pipeline__RateLimit__Burst", "rateLimitBurst", "20000")]
    // The rate limit's divisor is the plan's scale-out ceiling itself, so the two cannot drift apart.
    [InlineData("Pipeline__MaxInstances", "maximumInstanceCount", "100")]
    [InlineData("SweepSchedule", "sweepSchedule", "0 */15 * * * *")]
    [InlineData("Pipeline__Query__MinimumCellUsers", "minimumCellUsers", "0")]
    public void Pipeline_setting_comes_from_a_parameter_with_its_default(string setting, string parameter, string defaultValue)
    {
        var value = Settings[setting];
        Assert.Contains($"parameters('{parameter}')", value);
        var origin = AppModule.RootParameterOf(JsonValue.Create($"[parameters('{parameter}')]"));
        Assert.True(origin is not null, $"{parameter} is not passed through from main.bicep.");
        var declared = Main.ParameterDefinitions[origin.Value.Parameter]?["defaultValue"];
        Assert.Equal(defaultValue, declared is JsonValue v && v.TryGetValue<string>(out var s) ? s : declared?.ToJsonString());
    }
}
