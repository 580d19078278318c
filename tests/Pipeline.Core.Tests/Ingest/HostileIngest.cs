using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using static Pipeline.Core.Tests.Ingest.IngestTestData;

namespace Pipeline.Core.Tests.Ingest;

/// <summary>
/// The real <see cref="IngestHandler"/> over in-memory ports, with one key for <see cref="OnlyWx123"/>
/// (may write only <c>wx123</c>) and one for <see cref="AllPrograms"/>, for the hostile-input and fuzz tests.
/// </summary>
internal sealed class HostileIngest
{
    public FakeTimeProvider Time { get; } = new(Now);
    public FakeKeyStore Keys { get; } = new();
    public FakeLandingStore Landing { get; } = new();
    public FakeQueue Queue { get; } = new();
    public FakeRejectedStore Rejected { get; } = new();
    public FakeReceipts Receipts { get; } = new();
    public IngestHandler Handler { get; }

    /// <summary>Key of <see cref="OnlyWx123"/>.</summary>
    public string RestrictedKey { get; }

    /// <summary>Key of <see cref="AllPrograms"/>.</summary>
    public string PlatformKey { get; }

    public HostileIngest()
    {
        (RestrictedKey, var restricted) = IngestKeys.Create(OnlyWx123.Name, Now.AddDays(-1));
        (PlatformKey, var platform) = IngestKeys.Create(AllPrograms.Name, Now.AddDays(-1));
        Keys.Keys[restricted.KeyId] = restricted;
        Keys.Keys[platform.KeyId] = platform;
        Keys.Sources[OnlyWx123.Name] = OnlyWx123;
        Keys.Sources[AllPrograms.Name] = AllPrograms;
        Handler = new IngestHandler(new IngestKeyCache(Keys, Time), Landing, Queue, Rejected, Receipts, new PipelineOptions { PseudonymisationKey = PseudonymisationKey }, Time);
    }

    public Task<IngestOutcome> PostAsync(byte[] body, bool gzip = false, string? apiKey = null, string? contentType = "application/json") =>
        Handler.HandleAsync(new IngestRequest(apiKey ?? RestrictedKey, contentType, gzip ? "gzip" : null, new MemoryStream(body, writable: false)), CancellationToken.None);

    public static byte[] Gzip(byte[] data, CompressionLevel level = CompressionLevel.Fastest)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, level, leaveOpen: true)) gz.Write(data);
        return output.ToArray();
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
