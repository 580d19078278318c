using Cronos;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Api;
using Pipeline.Api.Queues;

namespace Pipeline.Local.Hosting;

/// <summary>
/// Runs the landing sweeper on the <c>SweepSchedule</c> setting, in UTC as the Functions timer does
/// (the local twin of the <c>SweepLanding</c> trigger).
/// </summary>
internal sealed class SweepScheduler(IConfiguration configuration, SweepEntry sweep, TimeProvider time, ILogger<SweepScheduler> logger) : BackgroundService
{
    // Parsed when the host starts, so a bad setting stops it at once with a clear message.
    private readonly (string Text, CronExpression Expression) _schedule = Parse(configuration[SweepSchedule.SettingName] ?? SweepSchedule.Default);

    internal static (string, CronExpression) Parse(string text)
    {
        try
        {
            return (text, CronExpression.Parse(text, CronFormat.IncludeSeconds));
        }
        catch (CronFormatException e)
        {
            throw new Cli.CliException($"setting {SweepSchedule.SettingName} '{text}' is not a six-field NCRONTAB expression with seconds (for example '0 */15 * * * *'): {e.Message}");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var (text, schedule) = _schedule;
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var next = schedule.GetNextOccurrence(now.UtcDateTime, TimeZoneInfo.Utc);
            if (next is null) return;
            try
            {
                await Task.Delay(next.Value - now.UtcDateTime, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return; // the host is stopping
            }
            try
            {
                await sweep.RunAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Nothing is lost: the next sweep looks at the same batches again.
                logger.LogError(e, "Scheduled landing sweep failed; the next one retries");
            }
        }
    }
}
