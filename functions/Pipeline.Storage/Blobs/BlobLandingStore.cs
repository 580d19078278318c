using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Pipeline.Core.Events;
using Pipeline.Core.Ports;

namespace Pipeline.Storage.Blobs;

/// <summary>
/// Landing blobs: <c>landing/&lt;yyyy&gt;/&lt;MM&gt;/&lt;dd&gt;/&lt;batchId&gt;.json</c> (UTC date of receipt), the
/// batch as JSON, with the source, key id and event count as metadata for audits. Writing a batch
/// again overwrites it, so a retried ingest is idempotent per batch id.
/// </summary>
public sealed class BlobLandingStore(BlobServiceClient blobService) : ILandingStore
{
    private readonly BlobContainerClient _container = blobService.GetBlobContainerClient(StorageNames.LandingContainer);

    public Task<string> WriteAsync(LandingBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var path = BlobPaths.Landing(batch.BatchId, batch.ReceivedAt);
        return StorageFailures.RunAsync("writing landing blob " + path, async ct =>
        {
            // The same JSON as JsonSerializer.SerializeToUtf8Bytes, written into a pooled buffer: a batch of
            // hundreds of events is a large-object-heap array otherwise, allocated and copied once per request.
            using var json = new PooledJson(batch.Events.Count);
            using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions
            {
                Encoder = StorageJsonContext.Default.Options.Encoder,
                Indented = false,
                SkipValidation = true,
            }))
            {
                JsonSerializer.Serialize(writer, batch, StorageJsonContext.Default.LandingBatch);
            }
            await _container.GetBlobClient(path).UploadAsync(BinaryData.FromBytes(json.WrittenMemory), new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Metadata = new Dictionary<string, string>
                {
                    ["source"] = batch.Source,
                    ["keyId"] = batch.KeyId,
                    ["eventCount"] = batch.Events.Count.ToString(CultureInfo.InvariantCulture),
                },
            }, ct).ConfigureAwait(false);
            return path;
        }, cancellationToken);
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> over arrays rented from the shared pool; returns its array when disposed.</summary>
    private sealed class PooledJson(int events) : IBufferWriter<byte>, IDisposable
    {
        // A landing event is 300 to 500 bytes of JSON: sized from the count, a batch rarely grows (each growth
        // copies, and leaves an array of another size in the pool's per-thread caches).
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(Array.MaxLength, 4096 + 512L * Math.Max(events, 0)));
        private int _written;

        public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

        public void Advance(int count)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(count);
            if (_written + count > _buffer.Length) throw new InvalidOperationException("Advanced past the buffer.");
            _written += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsMemory(_written);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsSpan(_written);
        }

        private void Ensure(int sizeHint)
        {
            var need = Math.Max(sizeHint, 1);
            if (_buffer.Length - _written >= need) return;
            var next = ArrayPool<byte>.Shared.Rent((int)Math.Min(Array.MaxLength, Math.Max((long)_buffer.Length * 2, (long)_written + need)));
            _buffer.AsSpan(0, _written).CopyTo(next);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = next;
        }

        public void Dispose()
        {
            var buffer = Interlocked.Exchange(ref _buffer, []);
            if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public Task<LandingBatch?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        // Accept the container-qualified form too ("landing/2026/11/23/<id>.json").
        var name = path.StartsWith(StorageNames.LandingContainer + "/", StringComparison.Ordinal)
            ? path[(StorageNames.LandingContainer.Length + 1)..]
            : path;
        return StorageFailures.RunAsync("reading landing blob " + name, async ct =>
            await _container.GetBlobClient(name).ContentOrNullAsync(ct).ConfigureAwait(false) is { } content
                ? JsonSerializer.Deserialize(content.ToMemory().Span, StorageJsonContext.Default.LandingBatch)
                : null, cancellationToken);
    }
}
