using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using Pipeline.Local.Hosting;

namespace Pipeline.Local.Cli;

internal static class KeysCommand
{
    public static Command Create()
    {
        var source = new Option<string>("--source") { Description = "Source name: lowercase letters, digits and '-' (for example 'payments' or 'miniapp-sdk').", Required = true };
        var miniPrograms = new Option<string>("--mini-programs") { Description = "Comma-separated miniProgramIds the key may write, or * for all (platform back ends).", Required = true };
        var create = new Command("create", "Create an ingest key for a source (registering the source and its mini-program allow-list); prints the key once.")
        {
            source, miniPrograms,
        };
        create.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            var name = parse.GetValue(source)!;
            var registration = ParseSource(name, parse.GetValue(miniPrograms)!);
            await using var environment = await LocalEnvironment.StartAsync(freshStorage: false, ct);
            await using var services = await LocalServices.StartAsync(environment.Configuration, ct);
            var plaintext = await CreateKeyAsync(services, registration, ct);
            Console.Error.WriteLine($"Created a key for source '{name}' ({(registration.AllMiniPrograms ? "all mini-programs" : string.Join(", ", registration.MiniProgramIds))}). It is shown once; only its hash is stored:");
            Console.WriteLine(plaintext);
            return 0;
        }));

        return new Command("keys", "Manage ingest keys.") { create };
    }

    /// <summary>Registers (or updates) the source and stores a new key for it; returns the plaintext key.</summary>
    internal static async Task<string> CreateKeyAsync(IServiceProvider services, SourceRegistration registration, CancellationToken ct)
    {
        var store = services.GetRequiredService<IIngestKeyStore>();
        var time = services.GetRequiredService<TimeProvider>();
        await store.SaveSourceAsync(registration, ct);
        var (plaintext, record) = IngestKeys.Create(registration.Name, time.GetUtcNow());
        await store.SaveKeyAsync(record, ct);
        return plaintext;
    }

    internal static SourceRegistration ParseSource(string name, string miniPrograms)
    {
        if (name.Length is 0 or > 64 || !name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            throw new CliException($"--source '{name}' is not a valid source name: use 1 to 64 of lowercase letters, digits and '-'.");
        if (miniPrograms.Trim() == "*")
            return new SourceRegistration(name, true, [], DateTimeOffset.UtcNow);
        var ids = miniPrograms.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0)
            throw new CliException("--mini-programs is empty: give a comma-separated list of miniProgramIds, or * for all.");
        var bad = ids.FirstOrDefault(id => id.Length is 0 or > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'));
        if (bad is not null)
            throw new CliException($"--mini-programs: '{bad}' is not a valid miniProgramId (1 to 64 of A-Z, a-z, 0-9, '_' and '-').");
        return new SourceRegistration(name, false, ids, DateTimeOffset.UtcNow);
    }
}
