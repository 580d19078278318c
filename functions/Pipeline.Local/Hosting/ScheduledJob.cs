using Cronos;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pipeline.Local.Hosting;

/// <summary>
/// The local twin of a Functions timer trigger: runs a job on the six-field NCRONTAB schedule in
/// a flat app setting, in UTC as the Functions timer does. Cronos parses the expression (a
/// maintained parser rather than our own). The schedule is parsed when the job is created, so a
/// bad setting stops the host at once with a message naming it. A failed run is logged and the
/// next occurrence runs again.
/// </summary>
internal abstract class ScheduledJob(string jobName, string settingName, string defaultSchedule, IConfiguration configuration, TimeProvider time, ILogger logger)
    : BackgroundService
{
    private readonly string _text = configuration[settingName] ?? defaultSchedule;
    private readonly CronExpression _schedule = ParseSchedule(settingName, configuration[settingName] ?? defaultSchedule, defaultSchedule);

    /// <summary>One run of the job.</summary>
    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    /// <summary>Why a failed run loses nothing, for the error log.</summary>
    protected abstract string AfterFailure { get; }

    internal static CronExpression ParseSchedule(string settingName, string text, string example)
    {
        try
        {
            return CronExpression.Parse(text, CronFormat.IncludeSeconds);
        }
        catch (CronFormatException e)
        {
            throw new Cli.CliException($"setting {settingName} '{text}' is not a six-field NCRONTAB expression with seconds (for example '{example}'): {e.Message}");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var next = _schedule.GetNextOccurrence(now.UtcDateTime, TimeZoneInfo.Utc);
            if (next is null) return;
            logger.LogInformation("Next {Job} at {Next:u} (schedule '{Schedule}', UTC)", jobName, next, _text);
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
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Scheduled {Job} failed; {AfterFailure}", jobName, AfterFailure);
            }
        }
    }
}
