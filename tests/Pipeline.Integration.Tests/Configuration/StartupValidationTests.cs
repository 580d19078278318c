using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Hosting;
using Pipeline.Core;

namespace Pipeline.Integration.Tests.Configuration;

/// <summary>Bad settings stop the pipeline at start-up with a message naming the setting (no storage needed).</summary>
public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("Pipeline:ReportingTimeZone", "Mars/Olympus_Mons", "Pipeline__ReportingTimeZone")]
    [InlineData("Pipeline:CommissionRate", "1.5", "CommissionRate must be between 0 and 1")]
    [InlineData("Pipeline:RateLimit:Burst", "0", "Burst")]                                     // a nested member
    [InlineData("Pipeline:RateLimit:Sources:payments:EventsPerSecond", "0", "Sources:payments:EventsPerSecond")]
    [InlineData("Pipeline:RateLimit:Sources:pay_ments:EventsPerSecond", "10", "Sources:pay_ments is not a source name")] // a typo'd source
    [InlineData("Pipeline:PseudonymisationKey", "too-short", "PseudonymisationKey")]
    [InlineData("Pipeline:EventStoreShards", "0", "EventStoreShards")]
    public void A_bad_setting_fails_validation_naming_it(string key, string value, string named)
    {
        using var services = Build(new() { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<PipelineOptions>>().Value);

        Assert.Contains(named, string.Join(" ", error.Failures));
    }

    [Fact]
    public void Good_settings_pass_and_default_to_Shanghai_and_0_6_percent()
    {
        using var services = Build(new());

        var options = services.GetRequiredService<IOptions<PipelineOptions>>().Value;

        Assert.Equal("Asia/Shanghai", options.ReportingTimeZone);
        Assert.Equal(0.006, options.CommissionRate);
    }

    [Theory]
    [InlineData("RollupSchedule")]
    [InlineData("SweepSchedule")]
    public async Task A_bad_schedule_stops_the_local_runner_naming_the_setting(string setting)
    {
        var values = new Dictionary<string, string?>
        {
            ["PipelineStorage"] = "UseDevelopmentStorage=true",
            ["Pipeline:PseudonymisationKey"] = "a-test-key-that-is-long-enough-0123456789",
            [setting] = "every day at noon",
        };
        await using var app = Pipeline.Local.Hosting.LocalPipelineHost.Build(
            new ConfigurationBuilder().AddInMemoryCollection(values).Build(), "http://127.0.0.1:0", background: true);

        var error = Assert.Throws<Pipeline.Local.Cli.CliException>(() => app.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().ToList());

        Assert.Contains($"setting {setting} 'every day at noon' is not a six-field NCRONTAB expression", error.Message);
    }

    [Fact]
    public async Task The_default_schedules_are_valid()
    {
        var values = new Dictionary<string, string?>
        {
            ["PipelineStorage"] = "UseDevelopmentStorage=true",
            ["Pipeline:PseudonymisationKey"] = "a-test-key-that-is-long-enough-0123456789",
        };
        await using var app = Pipeline.Local.Hosting.LocalPipelineHost.Build(
            new ConfigurationBuilder().AddInMemoryCollection(values).Build(), "http://127.0.0.1:0", background: true);

        var jobs = app.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<Pipeline.Local.Hosting.ScheduledJob>().ToList();

        Assert.Equal(2, jobs.Count);
    }

    [Fact]
    public void The_durable_write_resilience_is_read_from_settings_and_checked()
    {
        using (var services = Build(new() { ["Pipeline:Resilience:BreakDuration"] = "00:00:02", ["Pipeline:Resilience:MinimumThroughput"] = "4" }))
        {
            var options = services.GetRequiredService<Pipeline.Storage.Resilience.DurableWriteResilienceOptions>();
            Assert.Equal((TimeSpan.FromSeconds(2), 4, TimeSpan.FromSeconds(10)), (options.BreakDuration, options.MinimumThroughput, options.Timeout));
        }

        using var bad = Build(new() { ["Pipeline:Resilience:BreakDuration"] = "00:00:00.100" });
        var error = Assert.Throws<OptionsValidationException>(() => bad.GetRequiredService<IOptions<Pipeline.Storage.Resilience.DurableWriteResilienceOptions>>().Value);
        Assert.Contains("Pipeline:Resilience", error.Message);
        Assert.Contains("BreakDuration", error.Message);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["PipelineStorage"] = "UseDevelopmentStorage=true",
            ["Pipeline:PseudonymisationKey"] = "a-test-key-that-is-long-enough-0123456789",
        };
        foreach (var (k, v) in settings) values[k] = v;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddPipeline(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        return services.BuildServiceProvider();
    }
}
