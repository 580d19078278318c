using System.Text.Json;
using Pipeline.Core.Ingest;

namespace Pipeline.Core.Tests.Ingest;

public class ClockSkewTests
{
    private static readonly long Received = IngestTestData.Now.ToUnixTimeMilliseconds();
    private const long Minute = 60_000;
    private const long Day = 24 * 60 * Minute;

    private static bool TryParse(string json, out long ms)
    {
        using var doc = JsonDocument.Parse(json);
        return ClockSkew.TryParse(doc.RootElement, out ms);
    }

    [Theory]
    [InlineData("\"2026-11-23T10:15:01.000Z\"", 1795428901000)]
    [InlineData("\"2026-11-23T10:15:01Z\"", 1795428901000)]
    [InlineData("\"2026-11-23T18:15:01.000+08:00\"", 1795428901000)]
    [InlineData("\"2026-11-23T05:15:01-05:00\"", 1795428901000)]
    [InlineData("1795428901000", 1795428901000)]
    [InlineData("0", 0)]
    public void Parses_iso_with_offset_and_unix_milliseconds(string json, long expected)
    {
        Assert.True(TryParse(json, out var ms));
        Assert.Equal(expected, ms);
    }

    [Theory]
    [InlineData("\"2026-11-23T10:15:01\"")]   // no offset
    [InlineData("\"2026-11-23T10:15:01.000\"")]
    [InlineData("\"2026-11-23\"")]            // date only
    [InlineData("\"1795428901000\"")]         // digits in a string
    [InlineData("\"yesterday\"")]
    [InlineData("1795428901000.5")]           // not an integer
    [InlineData("1.795428901e12")]            // exponent form
    [InlineData("99999999999999999")]         // past DateTimeOffset.MaxValue
    [InlineData("true")]
    [InlineData("null")]
    [InlineData("{}")]
    public void Refuses_anything_else(string json) => Assert.False(TryParse(json, out _));

    [Fact]
    public void Correction_moves_the_timestamp_by_the_clients_clock_error()
    {
        // The client's clock is an hour behind: it sent at (its) 09:16:00, the event happened 5 minutes before that.
        var sentAt = Received - 60 * Minute;
        Assert.Equal(Received - 5 * Minute, ClockSkew.Correct(sentAt - 5 * Minute, sentAt, Received));
        Assert.Equal(sentAt - 5 * Minute, ClockSkew.Correct(sentAt - 5 * Minute, null, Received));
    }

    [Theory]
    [InlineData(10 * Minute, true)]
    [InlineData(10 * Minute + 1, false)]
    [InlineData(-30 * Day, true)]
    [InlineData(-30 * Day - 1, false)]
    [InlineData(0, true)]
    public void Window_is_inclusive_at_both_ends(long offset, bool inWindow) =>
        Assert.Equal(inWindow, EventTimeRules.Contract.Accepts(Received + offset, Received));
}
