using System.Text;
using Microsoft.Extensions.Time.Testing;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using static Pipeline.Core.Tests.Ingest.IngestTestData;

namespace Pipeline.Core.Tests.Ingest;

/// <summary>Key lifecycle (create, list, revoke, rotate) and how ingest answers each state of a key.</summary>
public class IngestKeyLifecycleTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly FakeTimeProvider _time = new(Now);
    private readonly FakeKeyStore _store = new();
    private readonly IngestKeyLifecycle _lifecycle;
    private readonly IngestHandler _handler;

    public IngestKeyLifecycleTests()
    {
        _lifecycle = new IngestKeyLifecycle(_store, _time);
        _handler = new IngestHandler(new IngestKeyCache(_store, _time), new FakeLandingStore(), new FakeQueue(), new FakeRejectedStore(), new FakeReceipts(),
            new PipelineOptions { PseudonymisationKey = PseudonymisationKey }, _time);
    }

    private async Task<IngestOutcome> Post(string apiKey) =>
        await _handler.HandleAsync(new IngestRequest(apiKey, "application/json", null,
            new MemoryStream(Encoding.UTF8.GetBytes(Body(Event(eventId: Guid.NewGuid().ToString("N")))))), None);

    private static string KeyIdOf(string plaintext) => plaintext.Substring(4, IngestKeys.KeyIdLength);

    [Fact]
    public void Check_tells_revoked_and_expired_only_to_the_holder_of_the_secret()
    {
        var (plaintext, record) = IngestKeys.Create("s", Now);
        IngestKeys.TryParse(plaintext, out _, out var secret);
        var (other, _) = IngestKeys.Create("s", Now);
        IngestKeys.TryParse(other, out _, out var wrong);

        Assert.Equal(IngestKeyStatus.Valid, IngestKeys.Check(record, secret, Now));
        Assert.Equal(IngestKeyStatus.Revoked, IngestKeys.Check(record with { RevokedAt = Now }, secret, Now));
        Assert.Equal(IngestKeyStatus.Expired, IngestKeys.Check(record with { ExpiresAt = Now }, secret, Now));
        Assert.Equal(IngestKeyStatus.Valid, IngestKeys.Check(record with { ExpiresAt = Now.AddTicks(1) }, secret, Now));
        Assert.Equal(IngestKeyStatus.Revoked, IngestKeys.Check(record with { RevokedAt = Now, ExpiresAt = Now }, secret, Now));
        // A wrong secret learns nothing about the key's state.
        Assert.Equal(IngestKeyStatus.WrongSecret, IngestKeys.Check(record with { RevokedAt = Now }, wrong, Now));
        Assert.Equal(IngestKeyStatus.WrongSecret, IngestKeys.Check(record with { ExpiresAt = Now }, wrong, Now));
        Assert.NotEqual(IngestKeyStatus.Valid, IngestKeys.Check(record with { ExpiresAt = Now }, secret, Now));
    }

    [Fact]
    public async Task A_revoked_key_is_refused_with_401_key_revoked()
    {
        var key = await _lifecycle.CreateAsync(AllPrograms, None);
        Assert.Equal(202, (await Post(key)).Status);

        var revoked = await _lifecycle.RevokeAsync(KeyIdOf(key), None);
        Assert.Equal(Now, revoked!.RevokedAt);
        // The handler caches key records for a minute: revocation reaches it within that time.
        _time.Advance(IngestKeyCache.HitLifetime);
        var outcome = await Post(key);
        Assert.Equal((401, IngestErrorCodes.KeyRevoked), (outcome.Status, outcome.ErrorCode));
        Assert.Contains("\"code\":\"key_revoked\"", Encoding.UTF8.GetString(outcome.Body));
        Assert.Equal(AllPrograms.Name, outcome.Source);

        // A wrong secret under the same key id is just unauthorized.
        var (other, _) = IngestKeys.Create(AllPrograms.Name, Now);
        var forged = "mpk_" + KeyIdOf(key) + other[(4 + IngestKeys.KeyIdLength)..];
        Assert.Equal(IngestErrorCodes.Unauthorized, (await Post(forged)).ErrorCode);
    }

    [Fact]
    public async Task Revoking_twice_keeps_the_first_time_and_an_unknown_key_is_null()
    {
        var key = await _lifecycle.CreateAsync(AllPrograms, None);
        await _lifecycle.RevokeAsync(KeyIdOf(key), None);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(Now, (await _lifecycle.RevokeAsync(KeyIdOf(key), None))!.RevokedAt);
        Assert.Null(await _lifecycle.RevokeAsync("000000000000", None));
    }

    [Fact]
    public async Task Rotation_keeps_the_old_key_valid_for_the_overlap_then_refuses_it_with_401_key_expired()
    {
        var old = await _lifecycle.CreateAsync(OnlyWx123, None);
        var rotation = await _lifecycle.RotateAsync(OnlyWx123.Name, TimeSpan.FromDays(7), None);

        Assert.NotEqual(old, rotation.Plaintext);
        Assert.Equal(OnlyWx123.Name, rotation.NewKey.Source);
        Assert.Null(rotation.NewKey.ExpiresAt);
        var retiring = Assert.Single(rotation.Retiring);
        Assert.Equal((KeyIdOf(old), (DateTimeOffset?)Now.AddDays(7)), (retiring.KeyId, retiring.ExpiresAt));

        Assert.Equal(202, (await Post(old)).Status);
        Assert.Equal(202, (await Post(rotation.Plaintext)).Status);

        _time.Advance(TimeSpan.FromDays(7) - TimeSpan.FromSeconds(1));
        Assert.Equal(202, (await Post(old)).Status);
        _time.Advance(TimeSpan.FromSeconds(1));
        var outcome = await Post(old);
        Assert.Equal((401, IngestErrorCodes.KeyExpired), (outcome.Status, outcome.ErrorCode));
        Assert.Equal(202, (await Post(rotation.Plaintext)).Status);
    }

    [Fact]
    public async Task Rotation_touches_only_the_sources_active_keys_and_never_lengthens_an_expiry()
    {
        var first = await _lifecycle.CreateAsync(OnlyWx123, None);
        var revoked = await _lifecycle.CreateAsync(OnlyWx123, None);
        await _lifecycle.RevokeAsync(KeyIdOf(revoked), None);
        var otherSource = await _lifecycle.CreateAsync(AllPrograms, None);

        var short1 = await _lifecycle.RotateAsync(OnlyWx123.Name, TimeSpan.FromHours(1), None);
        Assert.Equal([KeyIdOf(first)], short1.Retiring.Select(k => k.KeyId));

        // A second rotation with a longer overlap: the first key keeps its earlier end, the second key gets the new one.
        var second = await _lifecycle.RotateAsync(OnlyWx123.Name, TimeSpan.FromDays(7), None);
        Assert.Equal(Now.AddHours(1), _store.Keys[KeyIdOf(first)].ExpiresAt);
        Assert.Equal(Now.AddDays(7), _store.Keys[short1.NewKey.KeyId].ExpiresAt);
        Assert.Null(_store.Keys[second.NewKey.KeyId].ExpiresAt);
        Assert.Null(_store.Keys[KeyIdOf(revoked)].ExpiresAt);
        Assert.Null(_store.Keys[KeyIdOf(otherSource)].ExpiresAt);
    }

    [Fact]
    public async Task Rotation_with_no_overlap_ends_the_old_key_at_once()
    {
        var old = await _lifecycle.CreateAsync(AllPrograms, None);
        var rotation = await _lifecycle.RotateAsync(AllPrograms.Name, TimeSpan.Zero, None);
        Assert.Equal(Now, Assert.Single(rotation.Retiring).ExpiresAt);
        Assert.Equal(IngestErrorCodes.KeyExpired, (await Post(old)).ErrorCode);
        Assert.Equal(202, (await Post(rotation.Plaintext)).Status);
    }

    [Fact]
    public async Task Rotation_needs_a_registered_source_and_a_bounded_overlap()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => _lifecycle.RotateAsync("nobody", TimeSpan.FromDays(1), None));
        await _lifecycle.CreateAsync(AllPrograms, None);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _lifecycle.RotateAsync(AllPrograms.Name, TimeSpan.FromSeconds(-1), None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _lifecycle.RotateAsync(AllPrograms.Name, IngestKeyLifecycle.MaxOverlap + TimeSpan.FromSeconds(1), None));
        Assert.Single(_store.Keys);
    }

    [Fact]
    public async Task List_shows_every_key_with_its_source_and_state()
    {
        var active = await _lifecycle.CreateAsync(AllPrograms, None);
        var revoked = await _lifecycle.CreateAsync(OnlyWx123, None);
        await _lifecycle.RevokeAsync(KeyIdOf(revoked), None);
        _time.Advance(TimeSpan.FromMinutes(1));
        var rotation = await _lifecycle.RotateAsync(AllPrograms.Name, TimeSpan.FromDays(1), None);

        var listed = await _lifecycle.ListAsync(None);
        Assert.Equal(
            [(AllPrograms.Name, KeyIdOf(active), IngestKeyState.Expiring), (AllPrograms.Name, rotation.NewKey.KeyId, IngestKeyState.Active),
             (OnlyWx123.Name, KeyIdOf(revoked), IngestKeyState.Revoked)],
            listed.Select(l => (l.Key.Source, l.Key.KeyId, l.State)));
        Assert.Equal(["wx123"], listed[2].Source!.MiniProgramIds);

        _time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(IngestKeyState.Expired, (await _lifecycle.ListAsync(None))[0].State);
    }
}
