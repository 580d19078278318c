using Pipeline.Core.Events;
using Pipeline.Core.Ports;

namespace Pipeline.Core.Tests.Ingest;

// In-memory ports for the ingest tests (adds are locked: the bulk importer sends batches concurrently).

internal sealed class FakeKeyStore : IIngestKeyStore
{
    public Dictionary<string, IngestKeyRecord> Keys { get; } = [];
    public Dictionary<string, SourceRegistration> Sources { get; } = [];
    public int KeyLookups { get; private set; }
    public Exception? Throw { get; set; }

    public Task<IngestKeyRecord?> FindKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        KeyLookups++;
        if (Throw is not null) throw Throw;
        return Task.FromResult(Keys.GetValueOrDefault(keyId));
    }

    public Task<SourceRegistration?> FindSourceAsync(string source, CancellationToken cancellationToken)
    {
        if (Throw is not null) throw Throw;
        return Task.FromResult(Sources.GetValueOrDefault(source));
    }

    public Dictionary<string, SourceRegistration> Readers { get; } = [];

    public Task<SourceRegistration?> FindReaderAsync(string reader, CancellationToken cancellationToken)
    {
        if (Throw is not null) throw Throw;
        return Task.FromResult(Readers.GetValueOrDefault(reader));
    }

    public Task SaveReaderAsync(SourceRegistration reader, CancellationToken cancellationToken)
    {
        if (Throw is not null) throw Throw;
        Readers[reader.Name] = reader;
        return Task.CompletedTask;
    }

    public Task SaveSourceAsync(SourceRegistration source, CancellationToken cancellationToken)
    {
        if (Throw is not null) throw Throw;
        Sources[source.Name] = source;
        return Task.CompletedTask;
    }

    public Task SaveKeyAsync(IngestKeyRecord key, CancellationToken cancellationToken)
    {
        if (Throw is not null) throw Throw;
        Keys[key.KeyId] = key;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<IngestKeyRecord>> ListKeysAsync(CancellationToken cancellationToken)
    {
        if (Throw is not null) throw Throw;
        return Task.FromResult<IReadOnlyList<IngestKeyRecord>>(Keys.Values.ToList());
    }
}

internal sealed class FakeLandingStore : ILandingStore
{
    public List<LandingBatch> Written { get; } = [];
    public Exception? Throw { get; set; }
    public Action? OnWrite { get; set; }

    public Task<string> WriteAsync(LandingBatch batch, CancellationToken cancellationToken)
    {
        OnWrite?.Invoke();
        cancellationToken.ThrowIfCancellationRequested();
        if (Throw is not null) throw Throw;
        lock (Written) Written.Add(batch);
        return Task.FromResult("landing/" + batch.BatchId + ".json");
    }

    public Task<LandingBatch?> ReadAsync(string path, CancellationToken cancellationToken) => throw new NotSupportedException();
}

internal sealed class FakeQueue : IProcessingQueue
{
    public List<ProcessingMessage> Messages { get; } = [];
    public Exception? Throw { get; set; }

    public Task EnqueueAsync(ProcessingMessage message, CancellationToken cancellationToken)
    {
        if (Throw is not null) throw Throw;
        lock (Messages) Messages.Add(message);
        return Task.CompletedTask;
    }
}

internal sealed class FakeRejectedStore : IRejectedEventStore
{
    public List<RejectedBatch> Written { get; } = [];
    public Exception? Throw { get; set; }

    public Task WriteAsync(RejectedBatch batch, CancellationToken cancellationToken)
    {
        if (Throw is not null) throw Throw;
        lock (Written) Written.Add(batch);
        return Task.CompletedTask;
    }
}

internal sealed class FakeReceipts : IIngestReceiptLedger
{
    public List<(IngestReceipt Receipt, DateOnly Day)> Recorded { get; } = [];
    public Exception? Throw { get; set; }

    public Task RecordAsync(IngestReceipt receipt, DateOnly receiptDay, CancellationToken cancellationToken)
    {
        if (Throw is not null) throw Throw;
        lock (Recorded) Recorded.Add((receipt, receiptDay));
        return Task.CompletedTask;
    }

    public Task<IngestTotals> TotalsAsync(DateOnly receiptDay, CancellationToken cancellationToken) => throw new NotSupportedException();
}
