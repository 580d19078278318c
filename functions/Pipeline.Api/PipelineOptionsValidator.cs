using Microsoft.Extensions.Options;
using Pipeline.Core;
using Pipeline.Core.Time;

namespace Pipeline.Api;

/// <summary>
/// Start-up checks of the pipeline settings that data annotations cannot express: the reporting
/// time zone must exist on this machine, and the commission rate must be a real fraction.
/// A failure stops the host with a message naming the setting.
/// </summary>
public sealed class PipelineOptionsValidator : IValidateOptions<PipelineOptions>
{
    public ValidateOptionsResult Validate(string? name, PipelineOptions options)
    {
        var failures = new List<string>();
        try
        {
            _ = new ReportingCalendar(options.ReportingTimeZone);
        }
        catch (ArgumentException e)
        {
            failures.Add($"Pipeline__ReportingTimeZone: {e.Message}");
        }
        if (!double.IsFinite(options.CommissionRate) || options.CommissionRate is < 0 or > 1)
            failures.Add($"Pipeline__CommissionRate must be a fraction from 0 to 1 (0.006 = 0.6 %); got {options.CommissionRate}.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
