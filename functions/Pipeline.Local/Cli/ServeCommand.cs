using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Pipeline.Local.Hosting;

namespace Pipeline.Local.Cli;

internal static class ServeCommand
{
    public const string DefaultUrls = "http://127.0.0.1:7071";

    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "Where to listen.", DefaultValueFactory = _ => DefaultUrls };
        var command = new Command("serve", "Run the pipeline: ingest and metrics endpoints, queue listeners, and the rollup and landing sweeper on their schedules, against Azurite (started if needed) or PipelineStorage.")
        {
            urls,
        };
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var app = LocalPipelineHost.Build(environment.Configuration, parse.GetValue(urls)!, background: true);
            await LocalPipelineHost.StartAsync(app, ct);
            Console.WriteLine($"Pipeline listening on {LocalPipelineHost.ListeningAddress(app)} (POST /api/v1/events, GET /api/v1/metrics); storage: {environment.StorageDescription}.");
            Console.WriteLine("Press Ctrl+C to stop.");
            await app.WaitForShutdownAsync(ct);
            return 0;
        }));
        return command;
    }
}
