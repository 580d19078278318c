using Pipeline.Core.Ports;
using Pipeline.Core.Sweep;

namespace Pipeline.Core.Tests.Sweep;

public sealed class SweepRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly SweepOptions Options = new();

    private static LandingEntry Entry(TimeSpan age, DateTimeOffset? processed = null, DateTimeOffset? swept = null, int sweeps = 0) =>
        new("b1", "2026/11/23/b1.json", Now - age, processed, swept, sweeps);

    [Fact]
    public void A_processed_batch_is_left_alone_however_old() =>
        Assert.Equal(SweepDecision.Processed, SweepRules.Decide(Entry(TimeSpan.FromDays(1), processed: Now.AddDays(-1)), Now, Options));

    [Fact]
    public void An_unprocessed_batch_within_the_grace_period_is_left_to_its_own_message()
    {
        Assert.Equal(SweepDecision.TooRecent, SweepRules.Decide(Entry(TimeSpan.FromMinutes(9.9)), Now, Options));
        Assert.Equal(SweepDecision.Enqueue, SweepRules.Decide(Entry(TimeSpan.FromMinutes(10)), Now, Options));
    }

    [Fact]
    public void A_swept_batch_is_enqueued_again_only_after_the_retry_interval()
    {
        Assert.Equal(SweepDecision.RecentlySwept, SweepRules.Decide(Entry(TimeSpan.FromHours(2), swept: Now.AddMinutes(-59), sweeps: 1), Now, Options));
        Assert.Equal(SweepDecision.Enqueue, SweepRules.Decide(Entry(TimeSpan.FromHours(2), swept: Now.AddMinutes(-60), sweeps: 1), Now, Options));
    }

    [Fact]
    public void After_the_last_sweep_the_batch_is_given_up()
    {
        Assert.Equal(SweepDecision.Enqueue, SweepRules.Decide(Entry(TimeSpan.FromHours(5), swept: Now.AddHours(-2), sweeps: 2), Now, Options));
        Assert.Equal(SweepDecision.GivenUp, SweepRules.Decide(Entry(TimeSpan.FromHours(5), swept: Now.AddHours(-2), sweeps: 3), Now, Options));
    }

    [Fact]
    public void Lists_every_utc_day_from_the_lookback_through_today()
    {
        Assert.Equal([new DateOnly(2026, 11, 21), new DateOnly(2026, 11, 22), new DateOnly(2026, 11, 23)], SweepRules.DaysToList(Now, Options));
        Assert.Equal([new DateOnly(2026, 11, 23)], SweepRules.DaysToList(Now, new SweepOptions { Lookback = TimeSpan.FromHours(1) }));
    }

    [Theory]
    [InlineData(0, 60, 60, 3, "GracePeriod")]
    [InlineData(10, 5, 60, 3, "Lookback")]
    [InlineData(10, 60, 0, 3, "RetryInterval")]
    [InlineData(10, 60, 60, 0, "MaxSweeps")]
    public void Unusable_settings_are_named(int graceMinutes, int lookbackMinutes, int retryMinutes, int maxSweeps, string named)
    {
        var options = new SweepOptions
        {
            GracePeriod = TimeSpan.FromMinutes(graceMinutes),
            Lookback = TimeSpan.FromMinutes(lookbackMinutes),
            RetryInterval = TimeSpan.FromMinutes(retryMinutes),
            MaxSweeps = maxSweeps,
        };
        Assert.Contains(named, options.Problem());
        Assert.Null(new SweepOptions().Problem());
    }
}
