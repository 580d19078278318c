using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Pipeline.Infra.Tests;

/// <summary>
/// A compiled ARM template (languageVersion 2.0 keeps resources in an object by symbolic name;
/// 1.0 in an array) and the templates of its modules, nested as Microsoft.Resources/deployments.
/// </summary>
public sealed partial class ArmTemplate
{
    private ArmTemplate(JsonObject root, string name, ArmTemplate? parent, ArmResource? deployment)
    {
        Root = root;
        Name = name;
        Parent = parent;
        Deployment = deployment;
        Resources = ReadResources(root["resources"]).ToList();
        Modules = Resources
            .Where(r => r.Type == "Microsoft.Resources/deployments" && r.Json["properties"]?["template"] is JsonObject)
            .Select(r => new ArmTemplate(r.Json["properties"]!["template"]!.AsObject(), r.Key, this, r))
            .ToList();
    }

    public JsonObject Root { get; }

    /// <summary>"main.bicep" for the root, the module's symbolic name for a module.</summary>
    public string Name { get; }

    public ArmTemplate? Parent { get; }

    /// <summary>The deployment resource in the parent that holds this module.</summary>
    public ArmResource? Deployment { get; }

    public IReadOnlyList<ArmResource> Resources { get; }

    public IReadOnlyList<ArmTemplate> Modules { get; }

    public JsonObject ParameterDefinitions => Root["parameters"] as JsonObject ?? [];

    public JsonObject Variables => Root["variables"] as JsonObject ?? [];

    public JsonObject Outputs => Root["outputs"] as JsonObject ?? [];

    public static ArmTemplate Parse(JsonObject root, string name) => new(root, name, null, null);

    /// <summary>This template and every module under it.</summary>
    public IEnumerable<ArmTemplate> AllTemplates() => Modules.SelectMany(m => m.AllTemplates()).Prepend(this);

    /// <summary>Every resource this deployment creates (not the 'existing' references, not the module deployments).</summary>
    public IEnumerable<ArmResource> AllDeployedResources() =>
        AllTemplates().SelectMany(t => t.Resources).Where(r => !r.IsExisting && r.Type != "Microsoft.Resources/deployments");

    public IReadOnlyList<ArmResource> OfType(string type) =>
        AllDeployedResources().Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase)).ToList();

    public ArmResource Single(string type)
    {
        var found = OfType(type);
        return found.Count == 1 ? found[0] : throw new Xunit.Sdk.XunitException($"Expected exactly one {type}, found {found.Count}.");
    }

    /// <summary>
    /// Follows an expression back through module boundaries while it is a bare parameter
    /// reference: returns the template and parameter name where the value is finally defined,
    /// or null when it is not a parameter of the root template.
    /// </summary>
    public (ArmTemplate Template, string Parameter)? RootParameterOf(JsonNode? value)
    {
        var template = this;
        while (value is JsonValue v && v.TryGetValue<string>(out var text) && ParameterReference().Match(text) is { Success: true } match)
        {
            var name = match.Groups[1].Value;
            if (template.Parent is null) return (template, name);
            value = template.Deployment!.Json["properties"]?["parameters"]?[name]?["value"];
            template = template.Parent;
        }
        return null;
    }

    /// <summary>The value the parent passes to this module's parameter.</summary>
    public JsonNode? ArgumentOf(string parameter) => Deployment?.Json["properties"]?["parameters"]?[parameter]?["value"];

    /// <summary>
    /// Replaces <c>variables('x').y</c> and <c>variables('x')</c> (string values only) in an
    /// expression with their literal values, so that role ids kept in a variable can be read.
    /// </summary>
    public string ResolveVariables(string expression) =>
        VariableMember().Replace(expression, m =>
            Variables[m.Groups[1].Value]?[m.Groups[2].Value] is JsonValue v && v.TryGetValue<string>(out var s) ? $"'{s}'" : m.Value);

    /// <summary>The template (this one or a module under it) that declares a resource.</summary>
    public ArmTemplate OwnerOf(ArmResource resource) =>
        AllTemplates().Single(t => t.Resources.Any(r => ReferenceEquals(r.Json, resource.Json)));

    /// <summary>A node, or the variable it names when it is exactly <c>[variables('x')]</c>.</summary>
    public JsonNode? Resolve(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var text) && WholeVariable().Match(text) is { Success: true } match
            ? Variables[match.Groups[1].Value]
            : node;

    private static IEnumerable<ArmResource> ReadResources(JsonNode? resources)
    {
        switch (resources)
        {
            case JsonObject byName:
                foreach (var (key, value) in byName)
                    if (value is JsonObject resource) yield return new ArmResource(key, resource);
                break;
            case JsonArray list:
                var index = 0;
                foreach (var value in list)
                {
                    if (value is JsonObject resource) yield return new ArmResource($"[{index}]", resource);
                    index++;
                }
                break;
        }
    }

    [GeneratedRegex(@"^\[parameters\('([^']+)'\)\]$")]
    private static partial Regex ParameterReference();

    [GeneratedRegex(@"^\[variables\('([^']+)'\)\]$")]
    private static partial Regex WholeVariable();

    [GeneratedRegex(@"variables\('([^']+)'\)\.([A-Za-z0-9_]+)")]
    private static partial Regex VariableMember();
}

/// <summary>One resource of a compiled template.</summary>
public sealed record ArmResource(string Key, JsonObject Json)
{
    public string Type => (string)Json["type"]!;

    public bool IsExisting => Json["existing"] is JsonValue v && v.TryGetValue<bool>(out var existing) && existing;

    public JsonNode? Properties => Json["properties"];

    /// <summary>The name expression or literal, as compiled.</summary>
    public string NameExpression => Json["name"]?.ToJsonString() ?? "";

    /// <summary>A string property by path (for example "properties.minimumTlsVersion").</summary>
    public JsonNode? At(string path)
    {
        JsonNode? node = Json;
        foreach (var part in path.Split('.'))
            node = node?[part];
        return node;
    }
}
