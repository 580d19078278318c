using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// The fan-in's decisions (which shard hands a day to the finaliser, and when) and their cost: the
/// progress records a shard reads per day it rolls do not grow with the number of shards.
/// </summary>
public sealed class FanInTests
{
    private static readonly DateOnly D1 = HeldRun.D1, D2 = HeldRun.D2, Yesterday = HeldRun.Yesterday;
    private static readonly DateOnly[] Days = HeldRun.Days;

    [Theory]
    [InlineData(4)]
    [InlineData(64)]
    public async Task A_shard_reads_a_few_progress_records_per_day_however_many_shards_there_are(int shards)
    {
        var f = new HeldRun(shards);
        var messages = await f.PlanAsync();

        long most = 0;
        foreach (var m in messages)
        {
            var before = f.Runs.RecordsRead;
            await f.Shard.HandleAsync(m, CancellationToken.None);
            most = Math.Max(most, f.Runs.RecordsRead - before);
        }

        // The run and its own record, then per day the finalised pointer and at most one shard found behind.
        Assert.True(most <= 2 + 2 * Days.Length, $"a shard invocation read {most} progress records over {Days.Length} days of {shards} shards");
        Assert.Equal([D1], f.PendingDays());
    }

    [Fact]
    public async Task Only_the_last_shard_of_a_day_hands_it_on_and_only_once_the_day_before_is_finalised()
    {
        var f = new HeldRun(shards: 4);
        var messages = await f.PlanAsync();

        // Shards 0-2 roll every day: none is the last of any day.
        foreach (var m in messages.Take(3)) await f.Shard.HandleAsync(m, CancellationToken.None);
        Assert.Empty(f.PendingDays());
        // The last shard is the last of every day, but only D1 has its day before finalised (it has none).
        await f.Shard.HandleAsync(messages[3], CancellationToken.None);
        Assert.Equal([D1], f.PendingDays());

        // Each finaliser hands on the next day, whose shards are all done.
        var handed = new List<DateOnly>();
        while (f.Rollup.TakePending() is [RollupDayMessage day])
        {
            handed.Add(day.Day);
            await f.Rollup.DeliverAsync(day);
        }
        Assert.Equal(Days, handed);
        Assert.Equal(Days, f.Metrics.Days.Keys.Order());
    }

    [Fact]
    public async Task A_resumed_shard_that_finishes_a_day_after_the_day_before_is_finalised_hands_it_on()
    {
        var f = new HeldRun(shards: 2);
        var messages = await f.PlanAsync();
        await f.Shard.HandleAsync(messages[1], CancellationToken.None);
        var d2Reads = 0;
        // Shard 0 dies rolling D2 (its second read of D2; the first is the de-duplication scan), having recorded D1.
        f.Events.OnRead = day => { if (day == D2 && ++d2Reads == 2) throw new IOException("killed while reading"); };
        await Assert.ThrowsAsync<IOException>(() => f.Shard.HandleAsync(messages[0], CancellationToken.None));
        f.Events.OnRead = null;

        // It was the last of D1: D1 is finalised, and D2 is not handed on (shard 0 has not rolled it).
        Assert.Equal([D1], f.PendingDays());
        await f.Rollup.DeliverAsync(f.Rollup.TakePending()[0]);
        Assert.Empty(f.PendingDays());

        // Redelivered, it resumes at D2, is its last shard with D1 finalised, and hands it on; not Yesterday (D2 is not finalised yet).
        await f.Shard.HandleAsync(messages[0], CancellationToken.None);
        Assert.Equal([D2], f.PendingDays());
    }
}
