using Pipeline.Core.Scenes;

namespace Pipeline.Core.Tests.Scenes;

/// <summary>The scene table against the contract's scene list: codes are copied by hand from the contract, not from scenes.json.</summary>
public sealed class SceneTableTests
{
    private static readonly SceneTable Table = SceneTable.Default;

    [Theory]
    [InlineData(1024, "explore")] [InlineData(1145, "explore")] [InlineData(1373, "explore")]
    [InlineData(1005, "search")] [InlineData(1053, "search")] [InlineData(1301, "search")]
    [InlineData(1007, "share")] [InlineData(1044, "share")] [InlineData(1154, "share")] [InlineData(1313, "share")]
    [InlineData(1011, "qr")] [InlineData(1047, "qr")] [InlineData(1153, "qr")]
    [InlineData(1001, "recent")] [InlineData(1089, "recent")] [InlineData(1304, "recent")]
    [InlineData(1020, "official_account")] [InlineData(1058, "official_account")] [InlineData(1311, "official_account")]
    [InlineData(1045, "ads")] [InlineData(1095, "ads")] [InlineData(1387, "ads")]
    [InlineData(1019, "payment")] [InlineData(1097, "payment")] [InlineData(1216, "payment")]
    [InlineData(1037, "mini_program")] [InlineData(1038, "mini_program")] [InlineData(1362, "mini_program")]
    [InlineData(1014, "other")] [InlineData(1000, "other")] [InlineData(0, "other")] [InlineData(-5, "other")] [InlineData(99999, "other")]
    public void Channel_of_scene(int scene, string channel) => Assert.Equal(channel, Table.ChannelOf(scene));

    [Theory]
    [InlineData(1001, 1)] [InlineData(1004, 1)] [InlineData(1005, 2)] [InlineData(1132, 2)] [InlineData(1007, 3)] [InlineData(1096, 3)]
    [InlineData(1011, 4)] [InlineData(1150, 4)] [InlineData(1020, 5)] [InlineData(1022, 6)] [InlineData(1117, 7)] [InlineData(1135, 8)]
    [InlineData(1068, 9)] [InlineData(1014, 11)] [InlineData(1162, 11)] [InlineData(1036, 14)] [InlineData(1149, 15)] [InlineData(1125, 16)]
    [InlineData(1037, 22)] [InlineData(1038, 23)] [InlineData(1089, 29)] [InlineData(1045, 33)] [InlineData(1003, 35)] [InlineData(1155, 46)]
    [InlineData(1156, 47)] [InlineData(1153, 54)] [InlineData(1151, 55)] [InlineData(1161, 56)] [InlineData(1160, 57)]
    [InlineData(1169, 10)] [InlineData(4242, 10)] [InlineData(0, 10)]
    public void Access_source_of_scene(int scene, int source) => Assert.Equal(source, Table.SourceOf(scene));

    [Fact]
    public void Table_lists_every_channel_and_57_sources()
    {
        Assert.Equal(["explore", "search", "share", "qr", "recent", "official_account", "ads", "payment", "mini_program", "other"], Table.ChannelNames);
        Assert.Equal(Enumerable.Range(1, 57), Table.SourceNumbers.Order());
        Assert.Equal("other", Table.DefaultChannel);
        Assert.Equal(10, Table.DefaultSource);
        Assert.Equal("unknown", SceneTable.UnknownChannel);
    }

    [Theory]
    [InlineData(0, "0-2s")] [InlineData(2_999, "0-2s")] [InlineData(3_000, "3-5s")] [InlineData(5_999, "3-5s")]
    [InlineData(6_000, "6-10s")] [InlineData(10_999, "6-10s")] [InlineData(11_000, "11-20s")] [InlineData(20_999, "11-20s")]
    [InlineData(21_000, "21-30s")] [InlineData(30_999, "21-30s")] [InlineData(31_000, "31-50s")] [InlineData(50_999, "31-50s")]
    [InlineData(51_000, "51-100s")] [InlineData(100_999, "51-100s")] [InlineData(101_000, "100s+")] [InlineData(86_400_000, "100s+")]
    public void Stay_time_bucket_at_each_boundary(long durationMs, string bucket) => Assert.Equal(bucket, WeChatBuckets.DurationBucket(durationMs));

    [Theory]
    [InlineData(1, "1")] [InlineData(2, "2")] [InlineData(3, "3")] [InlineData(4, "4")] [InlineData(5, "5")]
    [InlineData(6, "6-10")] [InlineData(10, "6-10")] [InlineData(11, "10+")] [InlineData(500, "10+")]
    public void Depth_bucket_at_each_boundary(int pageViews, string bucket) => Assert.Equal(bucket, WeChatBuckets.DepthBucket(pageViews));

    [Fact]
    public void Depth_bucket_needs_a_page_view() => Assert.Throws<ArgumentOutOfRangeException>(() => WeChatBuckets.DepthBucket(0));

    [Fact]
    public void A_scene_in_two_channels_is_refused()
    {
        var json = """{"defaultChannel":"other","defaultSource":10,"channels":{"a":[1],"b":[1]},"sources":[]}"""u8.ToArray();
        Assert.Throws<InvalidDataException>(() => SceneTable.Parse(new MemoryStream(json)));
    }
}
