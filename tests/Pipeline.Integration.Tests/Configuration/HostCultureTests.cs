using System.Globalization;
using Pipeline.Hosting;

namespace Pipeline.Integration.Tests.Configuration;

/// <summary>The hosts' culture writes days the ISO way, whatever the machine's locale.</summary>
public sealed class HostCultureTests
{
    [Fact]
    public void Days_and_times_format_as_iso_where_a_locale_would_not()
    {
        var day = new DateOnly(2026, 11, 23);
        var at = new DateTime(2026, 11, 23, 7, 5, 9);
        Assert.Equal("11/23/2026", day.ToString(CultureInfo.InvariantCulture)); // what the invariant culture alone writes
        Assert.Equal("2026-11-23", day.ToString(HostCulture.IsoInvariant));
        Assert.Equal("2026-11-23 07:05:09", at.ToString(HostCulture.IsoInvariant));
        Assert.Equal("1,234.5", 1234.5.ToString("N1", HostCulture.IsoInvariant)); // numbers stay invariant
    }

    [Fact]
    public void A_log_message_template_uses_it()
    {
        var previous = (CultureInfo.CurrentCulture, CultureInfo.DefaultThreadCurrentCulture);
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            HostCulture.Apply();
            Assert.Equal("rolled 2026-11-23", $"rolled {new DateOnly(2026, 11, 23)}");
        }
        finally
        {
            CultureInfo.CurrentCulture = previous.Item1;
            CultureInfo.DefaultThreadCurrentCulture = previous.Item2;
            CultureInfo.DefaultThreadCurrentUICulture = previous.Item2;
            CultureInfo.CurrentUICulture = previous.Item1;
        }
    }
}
