namespace Pipeline.Core.Scenes;

/// <summary>WeChat's stay-time and visit-depth buckets, so numbers compare one to one with WeChat's own analysis.</summary>
public static class WeChatBuckets
{
    public static readonly IReadOnlyList<string> DurationBuckets = ["0-2s", "3-5s", "6-10s", "11-20s", "21-30s", "31-50s", "51-100s", "100s+"];

    public static readonly IReadOnlyList<string> DepthBuckets = ["1", "2", "3", "4", "5", "6-10", "10+"];

    /// <summary>Stay-time bucket of a duration: by whole seconds, <c>s = floor(ms / 1000)</c>.</summary>
    public static string DurationBucket(long durationMs)
    {
        var s = durationMs / 1000;
        return s switch
        {
            <= 2 => "0-2s",
            <= 5 => "3-5s",
            <= 10 => "6-10s",
            <= 20 => "11-20s",
            <= 30 => "21-30s",
            <= 50 => "31-50s",
            <= 100 => "51-100s",
            _ => "100s+",
        };
    }

    /// <summary>Visit-depth bucket of a number of page views (at least 1).</summary>
    public static string DepthBucket(int pageViews) => pageViews switch
    {
        <= 0 => throw new ArgumentOutOfRangeException(nameof(pageViews), pageViews, "A depth bucket needs at least one page view."),
        <= 5 => pageViews.ToString(System.Globalization.CultureInfo.InvariantCulture),
        <= 10 => "6-10",
        _ => "10+",
    };
}
