using System.Text.Json;
using Pipeline.Local.Queues;
using Pipeline.Storage;

namespace Pipeline.Integration.Tests.Configuration;

/// <summary>
/// host.json (the Functions host's queue settings) and the code that must agree with it: the dequeue count
/// after which both hosts move a message to its poison queue, the Base64 encoding the producers use, and the
/// local runner's listener, whose defaults are documented as the Functions host's.
/// </summary>
public sealed class HostJsonTests
{
    private static readonly JsonElement Queues = ReadQueues();

    [Fact]
    public void The_dequeue_count_is_the_one_both_hosts_poison_after() =>
        Assert.Equal(StorageNames.MaxDequeueCount, Queues.GetProperty("maxDequeueCount").GetInt32());

    [Fact]
    public void Messages_are_base64_as_the_producers_write_them() =>
        Assert.Equal("base64", Queues.GetProperty("messageEncoding").GetString());

    [Fact]
    public void The_local_listener_defaults_are_the_hosts()
    {
        var local = new QueueListenerOptions();
        Assert.Equal(local.VisibilityTimeout, TimeSpan.Parse(Queues.GetProperty("visibilityTimeout").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(local.MaxPollingInterval, TimeSpan.Parse(Queues.GetProperty("maxPollingInterval").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(local.BatchSize, Queues.GetProperty("batchSize").GetInt32());
        Assert.Equal(local.NewBatchThreshold, Queues.GetProperty("newBatchThreshold").GetInt32());
        Assert.Equal(local.MaxConcurrency, local.BatchSize + local.NewBatchThreshold); // the host's most messages in hand
        Assert.Equal(local.MaxDequeueCount, Queues.GetProperty("maxDequeueCount").GetInt32());
    }

    private static JsonElement ReadQueues()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Pipeline.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir!.FullName, "host.json")));
        return doc.RootElement.GetProperty("extensions").GetProperty("queues").Clone();
    }
}
