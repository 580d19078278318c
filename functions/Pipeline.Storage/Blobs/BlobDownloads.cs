using Azure;
using Azure.Storage.Blobs;

namespace Pipeline.Storage.Blobs;

/// <summary>Reads whose absent blob is an answer (null), not a failure.</summary>
internal static class BlobDownloads
{
    /// <summary>The blob's content, or null when it does not exist.</summary>
    public static async Task<BinaryData?> ContentOrNullAsync(this BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            return (await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }
}
