using Pipeline.Core.Events;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Sweep;

/// <summary>What one sweep found and did.</summary>
/// <param name="Scanned">Landing batches listed.</param>
/// <param name="Enqueued">Batch ids whose claim check was enqueued again.</param>
/// <param name="GivenUp">Batch ids still unprocessed after <see cref="SweepOptions.MaxSweeps"/> sweeps.</param>
/// <param name="Elapsed">Wall-clock time of the sweep.</param>
public sealed record SweepReport(int Scanned, IReadOnlyList<string> Enqueued, IReadOnlyList<string> GivenUp, TimeSpan Elapsed)
{
    /// <summary>One line for logs.</summary>
    public override string ToString() =>
        $"swept {Scanned} landing batch(es): {Enqueued.Count} re-enqueued, {GivenUp.Count} given up, in {Elapsed.TotalSeconds:0.0} s";
}

/// <summary>
/// Finds landing batches whose claim-check message was lost (ingest wrote the blob, then the
/// enqueue or the host failed, or the message expired) and enqueues their claim check again.
/// </summary>
/// <remarks>
/// Safe to run at any time and as often as wanted: processing is idempotent, so a batch enqueued
/// twice (its own message was only late) is stored once. The claim check is enqueued before the
/// sweep is recorded, so a failure between the two only causes one more harmless enqueue.
/// </remarks>
public sealed class LandingSweeper(ILandingInventory inventory, IProcessingQueue queue, SweepOptions options, TimeProvider time)
{
    public async Task<SweepReport> RunAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var now = time.GetUtcNow();
        var scanned = 0;
        var enqueued = new List<string>();
        var givenUp = new List<string>();
        foreach (var day in SweepRules.DaysToList(now, options))
        {
            await foreach (var entry in inventory.ListAsync(day, cancellationToken).ConfigureAwait(false))
            {
                scanned++;
                switch (SweepRules.Decide(entry, now, options))
                {
                    case SweepDecision.Enqueue:
                        await queue.EnqueueAsync(new ProcessingMessage(entry.BatchId, entry.Path), cancellationToken).ConfigureAwait(false);
                        await inventory.RecordSweepAsync(entry.Path, now, cancellationToken).ConfigureAwait(false);
                        enqueued.Add(entry.BatchId);
                        break;
                    case SweepDecision.GivenUp:
                        givenUp.Add(entry.BatchId);
                        break;
                }
            }
        }
        return new SweepReport(scanned, enqueued, givenUp, time.GetElapsedTime(started));
    }
}
