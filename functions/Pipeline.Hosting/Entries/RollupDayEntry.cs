using Microsoft.Extensions.Logging;
using Pipeline.Core.Rollup;
using Pipeline.Storage.Queues;

namespace Pipeline.Hosting.Entries;

/// <summary>
/// Entry point of the <c>rollup-days</c> queue for both hosts: finalises one day of a run. A failure
/// is rethrown, so the host delivers the message again and, after the dequeue limit, moves it to the
/// poison queue.
/// </summary>
public sealed class RollupDayEntry(DayFinaliseHandler handler, ILogger<RollupDayEntry> logger)
{
    public const string QueueName = Pipeline.Storage.StorageNames.RollupDaysQueue;

    public async Task HandleAsync(string message, CancellationToken cancellationToken)
    {
        var result = await handler.HandleAsync(QueueRollupQueue.ParseDay(message), cancellationToken).ConfigureAwait(false);
        if (result.Outcome is { } o)
            logger.LogInformation("Rollup run {RunId}: finalised {Day:yyyy-MM-dd}, {Rows} rows from {Events} events ({Phases})", result.RunId, result.Day, o.Rows, o.Events, result.Phases);
        else
            logger.LogInformation("Rollup run {RunId}: {Day:yyyy-MM-dd} not finalised by this message ({Reason})", result.RunId, result.Day, result.SkippedBecause);
    }
}
