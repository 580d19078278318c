using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>The 64-day activity bitmap of <see cref="UserWindow"/>, anchored at the last active day.</summary>
public sealed class UserWindowTests
{
    private const int D = 800_000; // any day number

    [Fact]
    public void A_new_user_is_active_on_their_first_day_only()
    {
        var u = UserWindow.New(D, "qr");
        Assert.Equal((D, "qr", D, 1UL), (u.FirstDay, u.FirstChannel, u.LastActiveDay, u.ActiveDays));
        Assert.True(u.WasActiveOn(D));
        Assert.False(u.WasActiveOn(D - 1));
        Assert.False(u.WasActiveOn(D + 1)); // the future is not known
    }

    [Fact]
    public void Activity_shifts_with_the_last_active_day_and_remembers_64_days()
    {
        var u = UserWindow.New(D, "qr").ActiveOn(D + 3).ActiveOn(D + 10);
        Assert.Equal(D + 10, u.LastActiveDay);
        Assert.Equal((1UL << 10) | (1UL << 7) | 1UL, u.ActiveDays);
        Assert.True(u.WasActiveOn(D));
        Assert.True(u.WasActiveOn(D + 3));
        Assert.False(u.WasActiveOn(D + 4));
        Assert.True(u.WasActiveBetween(D + 4, D + 10));
        Assert.False(u.WasActiveBetween(D + 4, D + 9));
        Assert.True(u.WasActiveBetween(D - 100, D)); // clipped to what is remembered

        // Day D is 63 days before D+63: still remembered; at D+64 it is gone.
        var later = u.ActiveOn(D + 63);
        Assert.True(later.WasActiveOn(D));
        Assert.False(later.ActiveOn(D + 64).WasActiveOn(D));
        Assert.True(later.ActiveOn(D + 64).WasActiveOn(D + 3));
        // A gap of 64 days or more forgets everything before.
        Assert.Equal(1UL, u.ActiveOn(D + 10 + 64).ActiveDays);
    }

    [Fact]
    public void Being_active_again_on_the_same_day_changes_nothing()
    {
        var u = UserWindow.New(D, "share").ActiveOn(D + 2);
        Assert.Equal(u, u.ActiveOn(D + 2));
    }
}
