using Cronos;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pipeline.Api;
using Pipeline.Api.Queues;

namespace Pipeline.Local.Hosting;

/// <summary>
/// Runs the daily rollup on the <c>RollupSchedule</c> setting, in UTC as the Functions timer
/// does. Cronos parses the six-field NCRONTAB expression (a maintained parser rather than our own).
/// </summary>
internal sealed class RollupScheduler(IConfiguration configuration, RollupEntry rollup, TimeProvider time, ILogger<RollupScheduler> logger) : BackgroundService
{
    // Parsed when the host starts, so a bad setting stops it at once with a clear message.
    private readonly (string Text, CronExpression Expression) _schedule = Parse(configuration[RollupSchedule.SettingName] ?? RollupSchedule.Default);

    internal static (string, CronExpression) Parse(string text)
    {
        try
        {
            return (text, CronExpression.Parse(text, CronFormat.IncludeSeconds));
        }
        catch (CronFormatException e)
        {
            throw new Cli.CliException($"setting {RollupSchedule.SettingName} '{text}' is not a six-field NCRONTAB expression with seconds (for example '0 30 16 * * *'): {e.Message}");
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
            logger.LogInformation("Next rollup at {Next:u} (schedule '{Schedule}', UTC)", next, text);
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
                await rollup.RunDueAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The next run retries: dirty marks are cleared only after a day is written.
                logger.LogError(e, "Scheduled rollup failed; dirty days stay marked for the next run");
            }
        }
    }
}
