using System.CommandLine;
using Pipeline.Local.Simulation;

namespace Pipeline.Local.Cli;

internal static class SimulateCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "The running pipeline (for example http://127.0.0.1:7071), or the full ingest URL.", Required = true };
        var key = new Option<string>("--key") { Description = "An ingest key (see 'keys create').", Required = true };
        var days = new Option<int>("--days") { Description = "Days of activity, ending now.", DefaultValueFactory = _ => 7 };
        var users = new Option<int>("--users") { Description = "Simulated users.", DefaultValueFactory = _ => 500 };
        var seed = new Option<int>("--seed") { Description = "Random seed: the same seed sends the same ecosystem.", DefaultValueFactory = _ => 42 };
        var command = new Command("simulate", "Send a synthetic mini-program ecosystem (every event type and channel, gzip and plain, duplicates, retries, late and invalid events) to a running endpoint.")
        {
            url, key, days, users, seed,
        };
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            var options = new SimulationOptions { Days = parse.GetValue(days), Users = parse.GetValue(users), Seed = parse.GetValue(seed) };
            if (options.Days is < 1 or > 29) throw new CliException("--days must be 1 to 29: the contract rejects events more than 30 days old.");
            if (options.Users < 1) throw new CliException("--users must be at least 1.");
            var report = await RunAsync(IngestUri(parse.GetValue(url)!), parse.GetValue(key)!, options, ct);
            Console.WriteLine(report.Describe());
            return report.RequestsFailed == 0 ? 0 : 1;
        }));
        return command;
    }

    internal static async Task<SimulationReport> RunAsync(Uri endpoint, string key, SimulationOptions options, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(100) };
        var progress = new Progress<string>(line => Console.Error.WriteLine(line));
        try
        {
            return await SimulationClient.RunAsync(http, endpoint, key, options, progress, ct);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"could not reach {endpoint} ({e.Message}). Start the pipeline with 'serve' first, or check --url.");
        }
    }

    /// <summary>Accepts the runner's base URL or the full ingest URL.</summary>
    internal static Uri IngestUri(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new CliException($"--url '{url}' is not an http(s) URL; for example http://127.0.0.1:7071.");
        return uri.AbsolutePath is "" or "/" ? new Uri(uri, "/api/v1/events") : uri;
    }
}
