using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Ports;
using Pipeline.Local.Hosting;

namespace Pipeline.Local.Cli;

internal static class ExportCommand
{
    public static Command Create()
    {
        var date = DateOptions.Create("--date", "Reporting day", required: true);
        var output = new Option<string?>("--out") { Description = "File to write; standard output when omitted." };
        var command = new Command("export", "Fetch a day's CSV export (exports/daily/<date>.csv).") { date, output };
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            var day = parse.GetValue(date)!.Value;
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var services = await LocalServices.StartAsync(environment.Configuration, ct);
            var exports = services.GetRequiredService<IExportStore>();
            var csv = await exports.ReadDailyAsync(day, ct)
                ?? throw new CliException($"no export for {day:yyyy-MM-dd}: the day has not been rolled up. Run 'rollup' first.");
            if (parse.GetValue(output) is { } path)
            {
                await File.WriteAllBytesAsync(path, csv, ct);
                Console.Error.WriteLine($"Wrote {exports.DescribeDaily(day)} to {Path.GetFullPath(path)}");
            }
            else
            {
                await using var stdout = Console.OpenStandardOutput();
                await stdout.WriteAsync(csv, ct);
            }
            return 0;
        }));
        return command;
    }
}
