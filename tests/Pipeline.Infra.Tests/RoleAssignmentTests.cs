using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Pipeline.Infra.Tests;

/// <summary>Least privilege: each role the app needs, once, to the app's identity, on the right scope; nothing broader anywhere.</summary>
public sealed partial class RoleAssignmentTests
{
    private const string Owner = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
    private const string Contributor = "b24988ac-6180-42ed-a4fe-e59f7ba9e941";
    private const string UserAccessAdministrator = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
    private const string RoleBasedAccessControlAdministrator = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";

    private static ArmTemplate Main => InfraBuild.Instance.Main;

    private static IReadOnlyList<(ArmTemplate Template, ArmResource Assignment)> Assignments =>
        Main.AllTemplates()
            .SelectMany(t => t.Resources.Where(r => r.Type == "Microsoft.Authorization/roleAssignments" && !r.IsExisting).Select(r => (t, r)))
            .ToList();

    /// <summary>Assignments whose principal is the function app's user-assigned identity.</summary>
    private static IReadOnlyList<(ArmTemplate Template, ArmResource Assignment, string RoleId)> AppAssignments =>
        Assignments
            .Where(a => IsAppIdentity(a.Template, (string?)a.Assignment.At("properties.principalId")))
            .Select(a => (a.Template, a.Assignment, RoleIdOf(a.Template, a.Assignment)))
            .ToList();

    [Theory]
    [InlineData("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Storage Blob Data Owner", "Microsoft.Storage/storageAccounts")]
    [InlineData("974c5e8b-45b9-4653-ba55-5f855dd0fb88", "Storage Queue Data Contributor", "Microsoft.Storage/storageAccounts")]
    [InlineData("0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "Storage Table Data Contributor", "Microsoft.Storage/storageAccounts")]
    [InlineData("3913510d-42f4-4e42-8a64-420c390055eb", "Monitoring Metrics Publisher", "Microsoft.Insights/components")]
    [InlineData("4633458b-17de-408a-b874-0445c86b69e6", "Key Vault Secrets User", "Microsoft.KeyVault/vaults")]
    public void App_identity_holds_role_once_on_its_scope(string roleId, string roleName, string scopeType)
    {
        var matching = AppAssignments.Where(a => a.RoleId == roleId).ToList();
        Assert.True(matching.Count == 1, $"{roleName} ({roleId}) is assigned to the app's identity {matching.Count} times; expected once.");
        var scope = (string?)matching[0].Assignment.Json["scope"];
        Assert.True(scope?.Contains($"'{scopeType}'", StringComparison.Ordinal) == true, $"{roleName} is scoped to {scope}, expected a {scopeType}.");
    }

    [Fact]
    public void App_identity_holds_no_other_role()
    {
        var expected = new[]
        {
            "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "974c5e8b-45b9-4653-ba55-5f855dd0fb88", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
            "3913510d-42f4-4e42-8a64-420c390055eb", "4633458b-17de-408a-b874-0445c86b69e6",
        };
        var roles = AppAssignments.Select(a => a.RoleId).ToList();
        Assert.Equal(expected.Order(), roles.Order());
    }

    [Theory]
    [InlineData(Owner, "Owner")]
    [InlineData(Contributor, "Contributor")]
    [InlineData(UserAccessAdministrator, "User Access Administrator")]
    [InlineData(RoleBasedAccessControlAdministrator, "Role Based Access Control Administrator")]
    public void No_template_grants_a_broad_role(string roleId, string roleName)
    {
        foreach (var file in InfraFiles.Templates)
        {
            var text = File.ReadAllText(InfraBuild.Instance.OutputPath(file));
            Assert.False(text.Contains(roleId, StringComparison.OrdinalIgnoreCase), $"infra/{file} mentions {roleName} ({roleId}).");
        }
        Assert.DoesNotContain(Assignments, a => RoleIdOf(a.Template, a.Assignment) == roleId);
    }

    [Fact]
    public void Every_assignment_is_named_with_guid()
    {
        Assert.NotEmpty(Assignments);
        Assert.All(Assignments, a => Assert.StartsWith("[guid(", (string?)a.Assignment.Json["name"]));
    }

    [Fact]
    public void Every_assignment_names_a_role_definition_of_the_subscription()
    {
        Assert.All(Assignments, a =>
        {
            Assert.StartsWith("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions'", (string?)a.Assignment.At("properties.roleDefinitionId"));
            var expression = (string?)a.Assignment.At("properties.roleDefinitionId") ?? "";
            if (CopiedVariable().Match(expression) is { Success: true } copied)
                Assert.All(a.Template.Variables[copied.Groups[1].Value] as JsonArray ?? [], role => Assert.Matches(Guid(), a.Template.ResolveVariables((string?)role ?? "")));
            else
                Assert.Matches(Guid(), RoleIdOf(a.Template, a.Assignment));
        });
    }

    [Fact]
    public void App_assignments_declare_a_service_principal()
    {
        Assert.All(AppAssignments, a => Assert.Equal("ServicePrincipal", (string?)a.Assignment.At("properties.principalType")));
    }

    [Fact]
    public void The_identity_in_the_assignments_is_the_one_the_app_runs_as()
    {
        var identity = Main.Resources.Single(r => r.Type == "Microsoft.ManagedIdentity/userAssignedIdentities");
        var rbac = Main.Modules.Single(m => m.Resources.Any(r => r.Type == "Microsoft.Authorization/roleAssignments"));
        Assert.Equal((string?)identity.Json["name"], (string?)rbac.ArgumentOf("appIdentityName"));

        var app = Main.Modules.Single(m => m.Resources.Any(r => r.Type == "Microsoft.Web/sites"));
        Assert.Contains(((string?)identity.Json["name"])!.Trim('[', ']'), (string?)app.ArgumentOf("identityId"));
    }

    /// <summary>The role definition GUID of an assignment, with role ids kept in variables resolved.</summary>
    private static string RoleIdOf(ArmTemplate template, ArmResource assignment)
    {
        var expression = template.ResolveVariables((string?)assignment.At("properties.roleDefinitionId") ?? "");
        var match = Guid().Match(expression);
        return match.Success ? match.Value.ToLowerInvariant() : expression;
    }

    private static bool IsAppIdentity(ArmTemplate template, string? principalId) =>
        principalId is not null
        && principalId.Contains("Microsoft.ManagedIdentity/userAssignedIdentities", StringComparison.Ordinal)
        && principalId.Contains("parameters('appIdentityName')", StringComparison.Ordinal)
        && template.ArgumentOf("appIdentityName") is not null;

    [GeneratedRegex(@"variables\('([^']+)'\)\[copyIndex\(\)\]")]
    private static partial Regex CopiedVariable();

    [GeneratedRegex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")]
    private static partial Regex Guid();
}
