using System.Net;
using System.Text.Json;
using Pipeline.Core.Ingest;
using Pipeline.Integration.Tests.EndToEnd;
using Pipeline.Integration.Tests.Infrastructure;
using Pipeline.Local.Cli;

namespace Pipeline.Integration.Tests.Security;

/// <summary>
/// The <c>keys</c> verbs (their handlers, called in-process as the CLI calls them) against Azurite,
/// and what the running local runner's HTTP endpoint then answers for each key.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class KeysCommandTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private PipelineHost _host = null!;

    // No background work: the queue listeners would take other tests' messages from the shared Azurite.
    public async Task InitializeAsync() => _host = await PipelineHost.StartAsync(azurite.ConnectionString, background: false);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static string KeyIdOf(string key) => key.Substring(4, IngestKeys.KeyIdLength);

    private async Task<(HttpStatusCode Status, string? Code)> Send(string key, string mini = "wx_sec")
    {
        using var response = await _host.PostAsync(key, SecurityBodies.Sessions((Guid.NewGuid().ToString("N"), mini)));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.TryGetProperty("error", out var error) ? error.GetProperty("code").GetString() : null);
    }

    private async Task<string> List()
    {
        using var output = new StringWriter();
        await KeysCommand.ListAsync(_host.Services, output, None);
        return output.ToString();
    }

    [Fact]
    public async Task List_shows_each_key_with_its_source_allow_list_and_state_but_never_the_secret()
    {
        var source = AzuriteFixture.Unique("list-");
        var key = await _host.CreateKeyAsync(source, "wx_a", "wx_b");

        var listing = await List();
        var line = Assert.Single(listing.Split('\n'), l => l.Contains(KeyIdOf(key), StringComparison.Ordinal));
        Assert.Contains(source, line);
        Assert.Contains("wx_a,wx_b", line);
        Assert.Contains(DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), line);
        Assert.EndsWith("active", line.TrimEnd());
        Assert.StartsWith("KIND", listing);
        Assert.StartsWith("ingest", line);
        Assert.DoesNotContain(key[(4 + IngestKeys.KeyIdLength + 1)..], listing);
    }

    private async Task<(HttpStatusCode Status, string? Code)> Read(string key)
    {
        using var response = await _host.GetAsync(key, "/api/v1/metrics?date=2026-01-05");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.TryGetProperty("error", out var error) ? error.GetProperty("code").GetString() : null);
    }

    [Fact]
    public async Task A_read_key_is_listed_as_read_reads_but_cannot_write_and_can_be_revoked()
    {
        var reader = AzuriteFixture.Unique("reader-");
        var key = await _host.CreateReadKeyAsync(reader, "wx_sec");
        var revokedKey = await _host.CreateReadKeyAsync(reader, "wx_sec");
        Assert.StartsWith(IngestKeys.ReadPrefix, key);

        var line = Assert.Single((await List()).Split('\n'), l => l.Contains(KeyIdOf(key), StringComparison.Ordinal));
        Assert.StartsWith("read", line);
        Assert.Contains(reader, line);
        Assert.Contains("wx_sec", line);

        // Authorised (the day is simply not rolled up in this account), refused on ingest.
        Assert.Equal((HttpStatusCode.NotFound, "not_rolled_up"), await Read(key));
        Assert.Equal((HttpStatusCode.Unauthorized, "unauthorized"), await Send(key));

        await KeysCommand.RevokeAsync(_host.Services, KeyIdOf(revokedKey), None);
        Assert.Equal((HttpStatusCode.Unauthorized, "key_revoked"), await Read(revokedKey));
    }

    [Fact]
    public async Task Rotating_a_readers_keys_issues_a_read_key_and_ends_the_old_ones()
    {
        var reader = AzuriteFixture.Unique("rotreader-");
        var old = await _host.CreateReadKeyAsync(reader);

        var rotation = await KeysCommand.RotateAsync(_host.Services, reader, TimeSpan.Zero, None, ApiKeyKind.Read);

        Assert.StartsWith(IngestKeys.ReadPrefix, rotation.Plaintext);
        Assert.Equal(ApiKeyKind.Read, rotation.NewKey.Kind);
        Assert.Equal(KeyIdOf(old), Assert.Single(rotation.Retiring).KeyId);
        Assert.Equal((HttpStatusCode.Unauthorized, "key_expired"), await Read(old));
        Assert.Equal(HttpStatusCode.NotFound, (await Read(rotation.Plaintext)).Status);
        // A reader is not a source: rotating it as a source fails with the source's message.
        var notSource = await Assert.ThrowsAsync<CliException>(() => KeysCommand.RotateAsync(_host.Services, reader, TimeSpan.Zero, None));
        Assert.Contains("not registered", notSource.Message);
    }

    [Fact]
    public async Task A_revoked_key_is_refused_with_401_key_revoked_and_listed_as_revoked()
    {
        var source = AzuriteFixture.Unique("rev-");
        var key = await _host.CreateKeyAsync(source, "wx_sec");

        var revoked = await KeysCommand.RevokeAsync(_host.Services, KeyIdOf(key), None);
        Assert.NotNull(revoked.RevokedAt);

        Assert.Equal((HttpStatusCode.Unauthorized, "key_revoked"), await Send(key));
        Assert.Contains("revoked " + revoked.RevokedAt!.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
            Assert.Single((await List()).Split('\n'), l => l.Contains(KeyIdOf(key), StringComparison.Ordinal)));
        var unknown = await Assert.ThrowsAsync<CliException>(() => KeysCommand.RevokeAsync(_host.Services, "0123456789ab", None));
        Assert.Contains("keys list", unknown.Message);
    }

    [Fact]
    public async Task Rotation_with_an_overlap_keeps_both_keys_working_and_lists_the_old_ones_end()
    {
        var source = AzuriteFixture.Unique("rot-");
        var old = await _host.CreateKeyAsync(source, "wx_sec");

        var rotation = await KeysCommand.RotateAsync(_host.Services, source, KeysCommand.ParseOverlap("7d"), None);
        var retiring = Assert.Single(rotation.Retiring);
        Assert.Equal(KeyIdOf(old), retiring.KeyId);
        Assert.InRange(retiring.ExpiresAt!.Value - DateTimeOffset.UtcNow, TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(7));

        Assert.Equal((HttpStatusCode.Accepted, (string?)null), await Send(old));
        Assert.Equal((HttpStatusCode.Accepted, (string?)null), await Send(rotation.Plaintext));
        var listing = await List();
        Assert.Contains("expires ", Assert.Single(listing.Split('\n'), l => l.Contains(KeyIdOf(old), StringComparison.Ordinal)));
        Assert.EndsWith("active", Assert.Single(listing.Split('\n'), l => l.Contains(rotation.NewKey.KeyId, StringComparison.Ordinal)).TrimEnd());
    }

    [Fact]
    public async Task Once_the_overlap_is_over_the_old_key_is_refused_with_401_key_expired()
    {
        var source = AzuriteFixture.Unique("exp-");
        var old = await _host.CreateKeyAsync(source, "wx_sec");

        var rotation = await KeysCommand.RotateAsync(_host.Services, source, KeysCommand.ParseOverlap("0"), None);

        Assert.Equal((HttpStatusCode.Unauthorized, "key_expired"), await Send(old));
        Assert.Equal((HttpStatusCode.Accepted, (string?)null), await Send(rotation.Plaintext));
        Assert.Contains("expired ", Assert.Single((await List()).Split('\n'), l => l.Contains(KeyIdOf(old), StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Rotating_an_unknown_source_and_bad_overlaps_are_clear_errors()
    {
        var unknown = await Assert.ThrowsAsync<CliException>(() => KeysCommand.RotateAsync(_host.Services, AzuriteFixture.Unique("none-"), TimeSpan.FromDays(1), None));
        Assert.Contains("not registered", unknown.Message);
        Assert.Equal(TimeSpan.FromHours(36), KeysCommand.ParseOverlap("36h"));
        Assert.Equal(TimeSpan.FromMinutes(30), KeysCommand.ParseOverlap("30m"));
        Assert.Throws<CliException>(() => KeysCommand.ParseOverlap("7 days"));
        Assert.Throws<CliException>(() => KeysCommand.ParseOverlap("-1d"));
        Assert.Throws<CliException>(() => KeysCommand.ParseOverlap("91d"));
    }
}
