using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.Core.Ingest;
using Pipeline.Core.Ports;
using Xunit.Abstractions;
using static Pipeline.Core.Tests.Ingest.HostileIngest;
using static Pipeline.Core.Tests.Ingest.IngestTestData;

namespace Pipeline.Core.Tests.Ingest;

/// <summary>
/// Seeded fuzzing of the real ingest handler (over in-memory ports): valid batches, mutated (fields
/// deleted, duplicated or given another type; strings, nesting, prop counts and batch sizes blown past
/// their limits; bytes flipped, inserted or cut; gzip on, off, or mismatched with its header), each
/// checked against an oracle:
/// <list type="bullet">
/// <item>never a 5xx, and only the contract's statuses (202, 400, 413);</item>
/// <item>every stored event is valid per the contract (<see cref="StoredEventContract"/>) and allowed for its source;</item>
/// <item>no valid event is lost, and no invalid one is kept: the events the handler stores are exactly those
/// that <see cref="WireEventOracle"/> accepts, unless the whole batch is refused with a documented batch-level
/// code that the body really earns (not JSON, no events array, 0 or more than 1000 events, over 4 MiB, bad
/// gzip). Both decisions are independent of the product: the batch level is decided here, each event by the
/// oracle, written from docs/ingest-contract.md and not from the product's parser, validator or prop table, so
/// that a rule the product gets wrong shows as a difference instead of being agreed with;</item>
/// <item>no <c>userId</c> kept for operators is the raw one (a property whose name a mutation changed
/// is no longer a <c>userId</c>, and is kept as sent).</item>
/// </list>
/// Every family of the oracle's rules (<see cref="WireRule"/>) must decide some event of the run, and the run
/// must reach enough kinds of answer, or the agreement would prove little.
/// The seed is fixed so the run is repeatable; set <c>INGEST_FUZZ_SEED</c> to explore others. A failure names the seed and the batch.
/// </summary>
public class IngestFuzzTests(ITestOutputHelper output)
{
    private const int Batches = 10_000;
    private const int DefaultSeed = 20_261_123;

    private static readonly string[] BatchLevelCodes =
    [
        IngestErrorCodes.InvalidJson, IngestErrorCodes.MissingEvents, IngestErrorCodes.EmptyBatch, IngestErrorCodes.TooManyEvents,
        IngestErrorCodes.InvalidBody, IngestErrorCodes.AllRejected, IngestErrorCodes.PayloadTooLarge,
    ];

    private static readonly JsonDocumentOptions OracleOptions = new() { MaxDepth = IngestLimits.MaxJsonDepth };

    [Fact]
    public async Task Ten_thousand_mutated_batches_never_fail_store_only_valid_events_and_lose_no_valid_event()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("INGEST_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : DefaultSeed;
        var random = new Random(seed);
        var ingest = new HostileIngest();
        var rules = new Dictionary<WireRule, int>();
        var watch = Stopwatch.StartNew();
        var statuses = new Dictionary<string, int>();

        for (var i = 0; i < Batches; i++)
        {
            var request = FuzzRequest.Create(random, i);
            try
            {
                var outcome = await Check(ingest, request, rules);
                var key = outcome.Status + " " + (outcome.ErrorCode ?? "");
                statuses[key] = statuses.GetValueOrDefault(key) + 1;
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException(
                    $"Ingest fuzz failed with seed {seed} (set INGEST_FUZZ_SEED={seed} to repeat), batch {i}, mutations [{string.Join(", ", request.Mutations)}]: {e.Message}\n{e.StackTrace}");
            }
        }

        output.WriteLine($"seed {seed}: {Batches} batches in {watch.Elapsed.TotalSeconds:0.0} s");
        foreach (var (answer, count) in statuses.OrderByDescending(p => p.Value)) output.WriteLine($"  {answer}: {count}");
        // The mutations must reach every kind of answer, or the fuzzing proves little.
        Assert.True(statuses.Keys.Count(k => k.StartsWith("202", StringComparison.Ordinal)) >= 1 && statuses.Keys.Count >= 8, string.Join(", ", statuses.Keys));
        foreach (var (rule, count) in rules.OrderByDescending(p => p.Value)) output.WriteLine($"  oracle {rule}: {count}");
        // And every family of the contract's event rules must decide some event, or the oracle's agreement with the handler proves little there.
        var missing = Enum.GetValues<WireRule>().Where(r => !rules.ContainsKey(r)).ToList();
        Assert.True(missing.Count == 0, "no event decided by: " + string.Join(", ", missing));
    }

    private static async Task<IngestOutcome> Check(HostileIngest ingest, FuzzRequest request, Dictionary<WireRule, int> rules)
    {
        var source = request.PlatformKey ? AllPrograms : OnlyWx123;
        var landed = ingest.Landing.Written.Count;
        var rejectedRecords = ingest.Rejected.Written.Count;
        var outcome = await ingest.PostAsync(request.Body, request.DeclaredGzip, request.PlatformKey ? ingest.PlatformKey : ingest.RestrictedKey);

        Assert.True(outcome.Status is 202 or 400 or 413, $"status {outcome.Status} {outcome.ErrorCode}");
        if (outcome.Status != 202) Assert.Contains(outcome.ErrorCode, BatchLevelCodes);
        using (var answer = JsonDocument.Parse(outcome.Body)) Assert.Equal(JsonValueKind.Object, answer.RootElement.ValueKind);

        var stored = ingest.Landing.Written.Skip(landed).ToList();
        Assert.Equal(outcome.Status == 202 ? 1 : 0, stored.Count);
        foreach (var e in stored.SelectMany(b => b.Events))
        {
            var problems = StoredEventContract.Problems(e, source, Now);
            Assert.True(problems.Count == 0, $"stored event {e.EventId} breaks the contract: {string.Join(", ", problems)}");
        }
        foreach (var record in ingest.Rejected.Written.Skip(rejectedRecords))
            Assert.DoesNotContain(record.Events, json => json is not null && json.Contains("\"userId\":\"" + RawUserId, StringComparison.Ordinal));

        if (Expect(request, source, rules) is not { } expected) return outcome; // the compressed bytes were mutated: no independent oracle of their content
        // On a difference, name what the oracle decided for each event: the contract then says which side is wrong.
        var verdicts = string.Join("; ", expected.Verdicts.Select((v, i) => $"[{i}] {v}"));
        Assert.True(expected.Status == outcome.Status && expected.Code == outcome.ErrorCode,
            $"expected {expected.Status} {expected.Code}, got {outcome.Status} {outcome.ErrorCode} {Rejections(outcome)}; oracle: {verdicts}");
        if (outcome.Status == 202)
        {
            var storedIds = stored[0].Events.Select(e => e.EventId).ToList();
            Assert.True(expected.AcceptedIds.SequenceEqual(storedIds),
                $"expected accepted [{string.Join(", ", expected.AcceptedIds)}], stored [{string.Join(", ", storedIds)}] {Rejections(outcome)}; oracle: {verdicts}");
        }
        return outcome;
    }

    /// <summary>The handler's rejections, as its answer lists them, for a failure message.</summary>
    private static string Rejections(IngestOutcome outcome)
    {
        using var answer = JsonDocument.Parse(outcome.Body);
        return answer.RootElement.TryGetProperty("rejected", out var rejected) ? "rejected " + rejected.GetRawText() : "";
    }

    /// <summary>
    /// The answer the body earns, decided without the handler or its parser (each event by <see cref="WireEventOracle"/>,
    /// counted in <paramref name="rules"/> by the rule that decided it); null when it cannot be known.
    /// </summary>
    private static (int Status, string? Code, List<string> AcceptedIds, List<WireVerdict> Verdicts)? Expect(
        FuzzRequest request, SourceRegistration source, Dictionary<WireRule, int> rules)
    {
        if (request.Plain is not { } plain) return null;
        if (request.DeclaredGzip && request.Body.Length == 0) return (400, IngestErrorCodes.InvalidBody, [], []); // gzip of nothing writes nothing: not a gzip stream
        if (request.DeclaredGzip != request.Compressed)
            return request.DeclaredGzip ? (400, IngestErrorCodes.InvalidBody, [], []) : (400, IngestErrorCodes.InvalidJson, [], []);
        if (plain.Length > IngestLimits.MaxBodyBytes) return (413, IngestErrorCodes.PayloadTooLarge, [], []);

        var bytes = plain.AsMemory();
        if (bytes.Span.StartsWith("\uFEFF"u8)) bytes = bytes[3..];
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, OracleOptions);
        }
        catch (JsonException)
        {
            return (400, IngestErrorCodes.InvalidJson, [], []);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (400, IngestErrorCodes.InvalidJson, [], []);
            var events = root.EnumerateObject().Where(p => p.NameEquals("events")).ToList();
            var sentAt = root.EnumerateObject().Where(p => p.NameEquals("sentAt")).ToList();
            if (events.Count > 1 || sentAt.Count > 1) return (400, IngestErrorCodes.InvalidJson, [], []);
            if (events.Count == 0 || events[0].Value.ValueKind != JsonValueKind.Array) return (400, IngestErrorCodes.MissingEvents, [], []);
            var items = events[0].Value.EnumerateArray().ToList();
            if (items.Count == 0) return (400, IngestErrorCodes.EmptyBatch, [], []);
            if (items.Count > IngestLimits.MaxEvents) return (400, IngestErrorCodes.TooManyEvents, [], []);

            // Each event on its own, judged by the contract (not by the product's parser), with the batch's sentAt.
            JsonElement? batchSentAt = sentAt.Count == 1 ? sentAt[0].Value : null;
            var accepted = new List<string>();
            var verdicts = new List<WireVerdict>();
            foreach (var item in items)
            {
                var verdict = WireEventOracle.Check(item, batchSentAt, source, Now);
                verdicts.Add(verdict);
                rules[verdict.Rule] = rules.GetValueOrDefault(verdict.Rule) + 1;
                if (verdict.Accepted) accepted.Add(item.GetProperty("eventId").GetString()!);
            }
            return accepted.Count == 0 ? (400, IngestErrorCodes.AllRejected, [], verdicts) : (202, null, accepted, verdicts);
        }
    }

    /// <summary>One fuzzed request: its bytes, whether gzip is declared, and (when known) the plain body inside.</summary>
    private sealed class FuzzRequest
    {
        public required byte[] Body { get; init; }
        public required bool DeclaredGzip { get; init; }
        public required bool Compressed { get; init; }
        /// <summary>The uncompressed body; null when compressed bytes were mutated afterwards.</summary>
        public required byte[]? Plain { get; init; }
        public required bool PlatformKey { get; init; }
        public required List<string> Mutations { get; init; }

        private static readonly JsonDocumentOptions DeepOptions = new() { MaxDepth = 1024 };

        private static readonly JsonNode?[] OtherValues =
            [42, -1, 1.5, "", "text", true, false, null, new JsonArray(), new JsonObject(), 1e30, "2026-11-23T10:15:01Z", 1_795_000_000_000L];

        public static FuzzRequest Create(Random random, int batch)
        {
            var mutations = new List<string>();
            var count = random.Next(10) == 0 ? random.Next(1, 60) : random.Next(1, 8);
            var events = new List<string>();
            for (var j = 0; j < count; j++)
            {
                var e = Event(Types[random.Next(Types.Length)], $"f{batch}-{j}");
                if (random.Next(10) == 0) e["miniProgramId"] = "wx999"; // not on the restricted source's list
                if (random.Next(4) == 0) e["timestamp"] = Now.AddMinutes(-random.Next(0, 60 * 24 * 31)).ToUnixTimeMilliseconds();
                events.Add(e.ToJsonString());
            }

            var structured = random.Next(4) == 0 ? 0 : random.Next(1, 4);
            for (var m = 0; m < structured; m++) MutateEvent(random, events, mutations);

            var body = new StringBuilder("{");
            switch (random.Next(8))
            {
                case 0: body.Append("\"sentAt\":\"2026-11-23T10:15:30.123Z\","); break;
                case 1: body.Append("\"sentAt\":").Append(Now.AddSeconds(-5).ToUnixTimeMilliseconds()).Append(','); break;
                case 2: body.Append("\"sentAt\":true,"); mutations.Add("sentAt wrong type"); break;
                case 3: body.Append("\"sentAt\":1,\"sentAt\":2,"); mutations.Add("sentAt twice"); break;
            }
            var size = random.Next(2500); // rare: each size blow-up costs a few MiB of work
            if (size < 3)
            {
                var n = size == 0 ? IngestLimits.MaxEvents : IngestLimits.MaxEvents + 1;
                events = Enumerable.Range(0, n).Select(j => Event(Types[j % Types.Length], $"f{batch}-many{j}").ToJsonString()).ToList();
                mutations.Add(n + " events");
            }
            else if (size < 5)
            {
                events.Clear();
                mutations.Add("0 events");
            }
            body.Append("\"events\":[").AppendJoin(',', events).Append(']');
            if (random.Next(50) == 0) { body.Append(",\"events\":[]"); mutations.Add("events twice"); }
            if (size is >= 5 and < 8)
            {
                // Pad to the body limit, or one byte past it.
                var target = IngestLimits.MaxBodyBytes + (size == 5 ? 0 : 1) - (size == 7 ? random.Next(1, 100) : 0);
                body.Append(",\"padding\":\"");
                var missing = target - Encoding.UTF8.GetByteCount(body.ToString()) - 2;
                if (missing > 0) body.Append('x', missing);
                body.Append('"');
                mutations.Add("padded to " + target);
            }
            body.Append('}');
            var plain = Encoding.UTF8.GetBytes(body.ToString());

            if (random.Next(3) == 0) plain = MutateBytes(random, plain, mutations);

            var gzip = random.Next(100);
            if (gzip < 25)
            {
                var compressed = Gzip(plain);
                if (random.Next(5) == 0)
                {
                    mutations.Add("gzip then:");
                    return new() { Body = MutateBytes(random, compressed, mutations), DeclaredGzip = true, Compressed = true, Plain = null, PlatformKey = random.Next(5) == 0, Mutations = mutations };
                }
                mutations.Add("gzip");
                return new() { Body = compressed, DeclaredGzip = true, Compressed = true, Plain = plain, PlatformKey = random.Next(5) == 0, Mutations = mutations };
            }
            if (gzip < 28)
            {
                mutations.Add("gzip declared, plain sent");
                return new() { Body = plain, DeclaredGzip = true, Compressed = false, Plain = plain, PlatformKey = false, Mutations = mutations };
            }
            if (gzip < 31)
            {
                mutations.Add("gzip sent undeclared");
                return new() { Body = Gzip(plain), DeclaredGzip = false, Compressed = true, Plain = plain, PlatformKey = false, Mutations = mutations };
            }
            return new() { Body = plain, DeclaredGzip = false, Compressed = false, Plain = plain, PlatformKey = random.Next(5) == 0, Mutations = mutations };
        }

        private static void MutateEvent(Random random, List<string> events, List<string> mutations)
        {
            try
            {
                MutateEventCore(random, events, mutations);
            }
            catch (ArgumentException)
            {
                // JsonNode materialises objects lazily and refuses the duplicate keys an earlier mutation made: leave the event as it is.
                mutations.Add("(mutation skipped: duplicate keys)");
            }
        }

        private static void MutateEventCore(Random random, List<string> events, List<string> mutations)
        {
            if (events.Count == 0) return;
            var index = random.Next(events.Count);
            JsonObject e;
            try
            {
                // An earlier mutation may have made it something JsonNode cannot hold (duplicate keys) or not an object.
                if (JsonNode.Parse(events[index], documentOptions: DeepOptions) is not JsonObject parsed || parsed.Count == 0) return;
                e = parsed;
            }
            catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
            {
                return;
            }
            var props = e["props"] as JsonObject;
            var onProps = props is { Count: > 0 } && random.Next(2) == 0;
            var target = onProps ? props! : e;
            var key = target.Select(p => p.Key).ElementAt(random.Next(target.Count));
            switch (random.Next(12))
            {
                case 0:
                    target.Remove(key);
                    mutations.Add($"delete {key} of event {index}");
                    break;
                case 1 or 2:
                    var value = OtherValues[random.Next(OtherValues.Length)]?.DeepClone();
                    target[key] = value;
                    mutations.Add($"{key} of event {index} = {value?.ToJsonString() ?? "null"}");
                    break;
                case 3:
                    // Duplicate a field: only possible in the text.
                    var text = e.ToJsonString();
                    var duplicate = "\"" + key + "\":" + (target[key]?.ToJsonString() ?? "null") + ",";
                    events[index] = onProps
                        ? text.Replace("\"props\":{", "\"props\":{" + duplicate, StringComparison.Ordinal)
                        : "{" + duplicate + text[1..];
                    mutations.Add($"duplicate {key} of event {index}");
                    return;
                case 4:
                    var length = new[] { IngestLimits.MaxPropStringLength, IngestLimits.MaxPropStringLength + 1, 40_000 }[random.Next(3)];
                    (props ?? e)["blob"] = new string('x', length);
                    mutations.Add($"string of {length} in event {index}");
                    break;
                case 5:
                    var depth = new[] { IngestLimits.MaxPropsDepth, IngestLimits.MaxPropsDepth + 1, 40, 300 }[random.Next(4)];
                    JsonNode nested = 1;
                    for (var d = depth; d > 1; d--) nested = new JsonArray(nested);
                    (props ?? e)["deep"] = nested;
                    mutations.Add($"props {depth} deep in event {index}");
                    break;
                case 6:
                    var wide = new JsonObject();
                    var n = random.Next(2) == 0 ? IngestLimits.MaxProps : IngestLimits.MaxProps + 1;
                    for (var k = 0; k < n; k++) wide["k" + k] = k;
                    e["props"] = wide;
                    mutations.Add($"{n} props in event {index}");
                    break;
                case 7:
                    events[index] = new[] { "null", "1", "\"event\"", "[]", "{}", "[" + events[index] + "]" }[random.Next(6)];
                    mutations.Add($"event {index} replaced by {events[index][..Math.Min(10, events[index].Length)]}");
                    return;
                case 8:
                    events.Insert(random.Next(events.Count + 1), events[index]);
                    mutations.Add($"event {index} sent twice");
                    return;
                case 9:
                    e["userId"] = new[] { "", new string('u', 128), new string('u', 129), "😀用户", "\u0000" }[random.Next(5)];
                    mutations.Add($"userId of event {index}");
                    break;
                case 10 when props is not null && Encoding.UTF8.GetByteCount(e.ToJsonString()) < IngestLimits.MaxEventBytes - 1000:
                    // Valid props up to the event size limit, or one byte past it: only the size can then refuse the event.
                    var bytes = IngestLimits.MaxEventBytes + random.Next(2);
                    PadTo(e, bytes);
                    mutations.Add($"event {index} padded to {bytes} bytes");
                    break;
                default:
                    e["type"] = new[] { "custom.", "custom.A", "custom." + new string('a', 65), "order_paid", "page_view", "SESSION_START" }[random.Next(6)];
                    mutations.Add($"type of event {index} = {e["type"]}");
                    break;
            }
            events[index] = e.ToJsonString();
        }

        private static byte[] MutateBytes(Random random, byte[] bytes, List<string> mutations)
        {
            if (bytes.Length == 0) return bytes;
            switch (random.Next(4))
            {
                case 0:
                    var cut = random.Next(bytes.Length);
                    mutations.Add($"cut to {cut} bytes");
                    return bytes[..cut];
                case 1:
                    var at = random.Next(bytes.Length);
                    var insert = new byte[] { 0xFF, 0xC3, 0x80, 0x00, (byte)'"', (byte)'{' }[random.Next(6)];
                    mutations.Add($"insert 0x{insert:X2} at {at}");
                    return [.. bytes[..at], insert, .. bytes[at..]];
                default:
                    var copy = (byte[])bytes.Clone();
                    var flips = random.Next(1, 4);
                    for (var f = 0; f < flips; f++)
                    {
                        var position = random.Next(copy.Length);
                        copy[position] ^= (byte)random.Next(1, 256);
                        mutations.Add($"flip byte {position}");
                    }
                    return copy;
            }
        }
    }
}
