using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Rollup;
using Pipeline.Local.Hosting;

namespace Pipeline.Integration.Tests;

/// <summary>A rollup run started and waited for while this process works the rollup queues, as <c>rollup</c> does.</summary>
internal static class RollupWaits
{
    /// <summary>The scheduled run, now, waited for.</summary>
    public static Task<RollupReport> RunRollupDueAsync(this IServiceProvider services, CancellationToken cancellationToken) =>
        services.WhileWorkingAsync(ct => services.GetRequiredService<RollupRunner>().RunDueAsync(ct), cancellationToken);

    /// <summary>A re-roll of a range, waited for.</summary>
    public static Task<RollupReport> RunRollupRangeAsync(this IServiceProvider services, DateOnly from, DateOnly to, CancellationToken cancellationToken) =>
        services.WhileWorkingAsync(ct => services.GetRequiredService<RollupRunner>().RunRangeAsync(from, to, ct), cancellationToken);
}
