namespace Pipeline.Core.Time;

/// <summary>
/// Maps instants to reporting days in the pipeline's reporting time zone. Schedules run in UTC
/// (Flex Consumption ignores <c>WEBSITE_TIME_ZONE</c>), so every day boundary is computed here.
/// </summary>
public sealed class ReportingCalendar
{
    public ReportingCalendar(string timeZoneId)
    {
        if (string.IsNullOrWhiteSpace(timeZoneId))
            throw new ArgumentException("The reporting time zone is empty; set an IANA id such as Asia/Shanghai.", nameof(timeZoneId));
        try
        {
            TimeZone = TimeZoneInfo.FindSystemTimeZoneById(timeZoneId);
        }
        catch (TimeZoneNotFoundException e)
        {
            throw new ArgumentException($"Unknown reporting time zone '{timeZoneId}'; use an IANA id such as Asia/Shanghai.", nameof(timeZoneId), e);
        }
    }

    public TimeZoneInfo TimeZone { get; }

    /// <summary>The reporting day of an instant given as Unix milliseconds.</summary>
    public DateOnly DayOf(long unixMs) => DayOf(DateTimeOffset.FromUnixTimeMilliseconds(unixMs));

    public DateOnly DayOf(DateTimeOffset instant) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, TimeZone).DateTime);

    /// <summary>The instant a reporting day starts (its local midnight), in UTC.</summary>
    public DateTimeOffset StartOf(DateOnly day)
    {
        var local = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        return new DateTimeOffset(local, TimeZone.GetUtcOffset(local)).ToUniversalTime();
    }
}
