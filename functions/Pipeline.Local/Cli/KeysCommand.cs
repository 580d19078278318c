using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using Pipeline.Local.Hosting;

namespace Pipeline.Local.Cli;

internal static class KeysCommand
{
    public static Command Create()
    {
        var source = new Option<string>("--source", "--name") { Description = "Source name (ingest key) or reader name (--read): lowercase letters, digits and '-' (for example 'payments' or 'dev-acme').", Required = true };
        var miniPrograms = new Option<string>("--mini-programs") { Description = "Comma-separated miniProgramIds the key may write (or, with --read, read), or * for all (platform back ends; with --read, the platform's analysts).", Required = true };
        var read = new Option<bool>("--read") { Description = "A read key (mrk_…) for the query API instead of an ingest key: it sees only the rows of its mini-programs (with *, every row), and cannot send events." };
        var create = new Command("create", "Create a key: an ingest key for a source, or with --read a read key for a reader (registering its mini-program list); prints the key once.")
        {
            source, miniPrograms, read,
        };
        create.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            var name = parse.GetValue(source)!;
            var kind = parse.GetValue(read) ? ApiKeyKind.Read : ApiKeyKind.Ingest;
            var registration = ParseSource(name, parse.GetValue(miniPrograms)!);
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var services = await LocalServices.StartAsync(environment.Configuration, ct);
            var plaintext = await CreateKeyAsync(services, registration, ct, kind);
            var scope = registration.AllMiniPrograms ? "all mini-programs" : string.Join(", ", registration.MiniProgramIds);
            Console.Error.WriteLine(kind == ApiKeyKind.Read
                ? $"Created a read key for reader '{name}' ({scope}). It is shown once; only its hash is stored:"
                : $"Created a key for source '{name}' ({scope}). It is shown once; only its hash is stored:");
            Console.WriteLine(plaintext);
            return 0;
        }));

        var list = new Command("list", "List every key: kind (ingest or read), key id, source or reader, mini-programs, created, and whether it is active, expiring, expired or revoked (never the secret, which is not stored).");
        list.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var services = await LocalServices.StartAsync(environment.Configuration, ct);
            await ListAsync(services, Console.Out, ct);
            return 0;
        }));

        var keyId = new Option<string>("--key-id") { Description = "The key id: the 12 hex characters after 'mpk_' (an ingest key) or 'mrk_' (a read key); see 'keys list'.", Required = true };
        var revoke = new Command("revoke", "Revoke a key (ingest or read) now: it is refused with 401 key_revoked (every instance within 60 s).") { keyId };
        revoke.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var services = await LocalServices.StartAsync(environment.Configuration, ct);
            var revoked = await RevokeAsync(services, parse.GetValue(keyId)!, ct);
            Console.Error.WriteLine($"Revoked key {revoked.KeyId} of source '{revoked.Source}' at {Format(revoked.RevokedAt!.Value)}.");
            return 0;
        }));

        var rotateSource = new Option<string>("--source", "--name") { Description = "The registered source (or, with --read, reader) whose keys to rotate.", Required = true };
        var rotateRead = new Option<bool>("--read") { Description = "Rotate the reader's read keys rather than a source's ingest keys." };
        var overlap = new Option<string>("--overlap") { Description = "How long the source's current keys stay valid next to the new one: 7d, 12h, 30m, 0 (at most 90d).", DefaultValueFactory = _ => "7d" };
        var rotate = new Command("rotate", "Issue a new key for a source or reader (printed once); its current keys stay valid for the overlap, then are refused with 401 key_expired.")
        {
            rotateSource, overlap, rotateRead,
        };
        rotate.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            var span = ParseOverlap(parse.GetValue(overlap)!);
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var services = await LocalServices.StartAsync(environment.Configuration, ct);
            var rotation = await RotateAsync(services, parse.GetValue(rotateSource)!, span, ct, parse.GetValue(rotateRead) ? ApiKeyKind.Read : ApiKeyKind.Ingest);
            foreach (var old in rotation.Retiring)
                Console.Error.WriteLine($"Key {old.KeyId} stays valid until {Format(old.ExpiresAt!.Value)}.");
            Console.Error.WriteLine($"New key {rotation.NewKey.KeyId} for source '{rotation.NewKey.Source}'. It is shown once; only its hash is stored:");
            Console.WriteLine(rotation.Plaintext);
            return 0;
        }));

        return new Command("keys", "Manage ingest keys (mpk_…, send events) and read keys (mrk_…, read metrics).") { create, list, revoke, rotate };
    }

    /// <summary>Registers (or updates) the source and stores a new key for it; returns the plaintext key.</summary>
    internal static Task<string> CreateKeyAsync(IServiceProvider services, SourceRegistration registration, CancellationToken ct, ApiKeyKind kind = ApiKeyKind.Ingest) =>
        Lifecycle(services).CreateAsync(registration, ct, kind);

    /// <summary>Writes the table of <c>keys list</c> to <paramref name="output"/>.</summary>
    internal static async Task ListAsync(IServiceProvider services, TextWriter output, CancellationToken ct)
    {
        var keys = await Lifecycle(services).ListAsync(ct);
        var rows = new List<string[]> { new[] { "KIND", "KEY ID", "SOURCE/READER", "MINI-PROGRAMS", "CREATED (UTC)", "STATE" } };
        rows.AddRange(keys.Select(k => new[]
        {
            k.Key.Kind == ApiKeyKind.Read ? "read" : "ingest",
            k.Key.KeyId,
            k.Key.Source,
            k.Source is null ? "(registration removed)" : k.Source.AllMiniPrograms ? "*" : string.Join(",", k.Source.MiniProgramIds),
            Format(k.Key.CreatedAt),
            k.State switch
            {
                IngestKeyState.Revoked => "revoked " + Format(k.Key.RevokedAt!.Value),
                IngestKeyState.Expired => "expired " + Format(k.Key.ExpiresAt!.Value),
                IngestKeyState.Expiring => "expires " + Format(k.Key.ExpiresAt!.Value),
                _ => "active",
            },
        }));
        var widths = Enumerable.Range(0, 6).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
            await output.WriteLineAsync(string.Join("  ", row.Select((cell, c) => c == 5 ? cell : cell.PadRight(widths[c]))));
        if (keys.Count == 0) await output.WriteLineAsync("(no keys: create one with 'keys create')");
    }

    /// <summary>Revokes a key now; a <see cref="CliException"/> when there is no such key.</summary>
    internal static async Task<IngestKeyRecord> RevokeAsync(IServiceProvider services, string keyId, CancellationToken ct)
    {
        var id = keyId.Trim();
        if (IngestKeys.KindOf(id) is { } kind && IngestKeys.TryParse(id, kind, out var fromKey, out _)) id = fromKey; // a whole key pasted by mistake: use only its id
        return await Lifecycle(services).RevokeAsync(id, ct)
            ?? throw new CliException($"There is no key with id '{id}'; 'keys list' shows the key ids.");
    }

    /// <summary>Issues a new key for <paramref name="source"/> and sets the end of its current keys.</summary>
    internal static async Task<IngestKeyRotation> RotateAsync(IServiceProvider services, string source, TimeSpan overlap, CancellationToken ct, ApiKeyKind kind = ApiKeyKind.Ingest)
    {
        try
        {
            return await Lifecycle(services).RotateAsync(source, overlap, ct, kind);
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(e.Message);
        }
    }

    /// <summary>Parses <c>--overlap</c>: a whole number with unit d, h, m or s (<c>7d</c>, <c>36h</c>), or 0.</summary>
    internal static TimeSpan ParseOverlap(string text)
    {
        var value = text.Trim().ToLowerInvariant();
        if (value == "0") return TimeSpan.Zero;
        if (value.Length >= 2 && long.TryParse(value[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 1_000_000)
        {
            TimeSpan? span = value[^1] switch
            {
                'd' => TimeSpan.FromDays(n),
                'h' => TimeSpan.FromHours(n),
                'm' => TimeSpan.FromMinutes(n),
                's' => TimeSpan.FromSeconds(n),
                _ => null,
            };
            if (span is { } s && s <= IngestKeyLifecycle.MaxOverlap) return s;
            if (span is not null)
                throw new CliException($"--overlap '{text}' is longer than {IngestKeyLifecycle.MaxOverlap.TotalDays:0} days.");
        }
        throw new CliException($"--overlap '{text}' is not a duration: use a whole number with d, h, m or s (7d, 12h, 30m), or 0.");
    }

    private static IngestKeyLifecycle Lifecycle(IServiceProvider services) =>
        new(services.GetRequiredService<IIngestKeyStore>(), services.GetRequiredService<TimeProvider>());

    private static string Format(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    internal static SourceRegistration ParseSource(string name, string miniPrograms)
    {
        if (!SourceNames.IsValid(name))
            throw new CliException($"--source '{name}' is not a valid source name: use {SourceNames.Rule}.");
        if (miniPrograms.Trim() == "*")
            return new SourceRegistration(name, true, [], DateTimeOffset.UtcNow);
        var ids = miniPrograms.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0)
            throw new CliException("--mini-programs is empty: give a comma-separated list of miniProgramIds, or * for all.");
        var bad = ids.FirstOrDefault(id => !MiniProgramIds.IsValid(id));
        if (bad is not null)
            throw new CliException($"--mini-programs: '{bad}' is not a valid miniProgramId ({MiniProgramIds.Rule}).");
        return new SourceRegistration(name, false, ids, DateTimeOffset.UtcNow);
    }
}
