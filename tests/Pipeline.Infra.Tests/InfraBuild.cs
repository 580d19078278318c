using System.Text.Json.Nodes;

namespace Pipeline.Infra.Tests;

/// <summary>The files under infra/, found on disk (so a new template is compiled and linted without a test change).</summary>
public static class InfraFiles
{
    public static IReadOnlyList<string> Templates { get; } = Find("*.bicep");

    public static IReadOnlyList<string> ParameterFiles { get; } = Find("*.bicepparam");

    public static IEnumerable<object[]> TemplateRows => Templates.Select(f => new object[] { f });

    public static IEnumerable<object[]> ParameterFileRows => ParameterFiles.Select(f => new object[] { f });

    public static IEnumerable<object[]> AllRows => Templates.Concat(ParameterFiles).Select(f => new object[] { f });

    /// <summary>Full path of a file named relative to infra/ (with '/').</summary>
    public static string FullPath(string relative) => Path.Combine(BicepCli.InfraDirectory, relative.Replace('/', Path.DirectorySeparatorChar));

    private static IReadOnlyList<string> Find(string pattern) =>
        Directory.EnumerateFiles(BicepCli.InfraDirectory, pattern, SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(BicepCli.InfraDirectory, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
}

/// <summary>
/// Every template and parameter file under infra/, compiled once per test run by the real bicep
/// CLI into a temporary folder, and the linter's verdict on all of them.
/// </summary>
public sealed class InfraBuild
{
    private static readonly Lazy<InfraBuild> Shared = new(() => CreateAsync().GetAwaiter().GetResult(), LazyThreadSafetyMode.ExecutionAndPublication);

    private InfraBuild(string outputDirectory, IReadOnlyDictionary<string, BicepResult> builds, BicepResult lint)
    {
        OutputDirectory = outputDirectory;
        Builds = builds;
        Lint = lint;
    }

    public static InfraBuild Instance => Shared.Value;

    public string OutputDirectory { get; }

    /// <summary>The build (or build-params) of each file, by its path relative to infra/.</summary>
    public IReadOnlyDictionary<string, BicepResult> Builds { get; }

    /// <summary>One lint run over every .bicep and .bicepparam file.</summary>
    public BicepResult Lint { get; }

    /// <summary>main.bicep compiled, with its modules.</summary>
    public ArmTemplate Main => Template("main.bicep");

    /// <summary>A compiled template, parsed once (so resources compare by reference across tests).</summary>
    public ArmTemplate Template(string relative)
    {
        lock (_templates)
        {
            if (!_templates.TryGetValue(relative, out var template))
                _templates[relative] = template = ArmTemplate.Parse(ReadJson(relative), relative);
            return template;
        }
    }

    /// <summary>The "parameters" object of a compiled .bicepparam file.</summary>
    public JsonObject Parameters(string relative) => ReadJson(relative)["parameters"]!.AsObject();

    private readonly Dictionary<string, ArmTemplate> _templates = new(StringComparer.Ordinal);

    /// <summary>The linter's diagnostics for one file (lines that start with its full path).</summary>
    public IReadOnlyList<string> LintDiagnosticsFor(string relative)
    {
        var prefix = InfraFiles.FullPath(relative) + "(";
        return Lint.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => line.StartsWith(prefix, StringComparison.Ordinal))
            .ToList();
    }

    public string OutputPath(string relative) => Path.Combine(OutputDirectory, relative.Replace('/', '_') + ".json");

    private JsonObject ReadJson(string relative)
    {
        var build = Builds[relative];
        if (build.ExitCode != 0 || !File.Exists(OutputPath(relative)))
            throw new InvalidOperationException($"infra/{relative} did not compile: {build}");
        return JsonNode.Parse(File.ReadAllText(OutputPath(relative)))!.AsObject();
    }

    private static async Task<InfraBuild> CreateAsync()
    {
        var output = Path.Combine(Path.GetTempPath(), $"pipeline-infra-tests-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(output);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(output, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };

        // Each bicep run takes a few seconds, mostly start-up: run a few side by side.
        using var gate = new SemaphoreSlim(Math.Max(2, Environment.ProcessorCount));
        async Task<(string File, BicepResult Result)> Run(string file, params string[] arguments)
        {
            await gate.WaitAsync();
            try { return (file, await BicepCli.RunAsync(arguments)); }
            finally { gate.Release(); }
        }

        var jobs = InfraFiles.Templates
            .Select(f => Run(f, "build", "--no-restore", InfraFiles.FullPath(f), "--outfile", Path.Combine(output, f.Replace('/', '_') + ".json")))
            .Concat(InfraFiles.ParameterFiles
                .Select(f => Run(f, "build-params", "--no-restore", InfraFiles.FullPath(f), "--outfile", Path.Combine(output, f.Replace('/', '_') + ".json"))))
            .ToList();
        var lint = Run("(lint)", "lint", "--no-restore", "--pattern", "infra/**/*.bicep*");

        var builds = (await Task.WhenAll(jobs)).ToDictionary(r => r.File, r => r.Result, StringComparer.Ordinal);
        return new InfraBuild(output, builds, (await lint).Result);
    }
}
