using Azure;
using Pipeline.Core.Ports;

namespace Pipeline.Storage;

/// <summary>
/// Tells "storage is unreachable" (after the SDK's own retries) from programming errors, and turns
/// the former into <see cref="StorageUnavailableException"/>. 4xx answers stay as they are.
/// </summary>
internal static class StorageFailures
{
    /// <summary>
    /// True for failures of the service or the network: status 0 (no answer), 408, 429 and 5xx,
    /// <see cref="HttpRequestException"/>, <see cref="TimeoutException"/>, a cancellation that the
    /// caller did not ask for (the SDK's network timeout), and the SDK's "retry failed" aggregate of those.
    /// </summary>
    public static bool IsUnavailable(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        StorageUnavailableException => false, // already translated
        RequestFailedException r => r.Status is 0 or 408 or 429 or >= 500,
        HttpRequestException or TimeoutException or System.Net.Sockets.SocketException or IOException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(e => IsUnavailable(e, cancellationToken)),
        _ => false,
    };

    public static StorageUnavailableException Unavailable(string operation, Exception exception) =>
        new($"Storage is unavailable: {operation} failed: {Describe(exception)}", exception);

    /// <summary>Runs a storage call, translating unavailability.</summary>
    public static async Task<T> RunAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnavailable(ex, cancellationToken))
        {
            throw Unavailable(operation, ex);
        }
    }

    /// <summary>Runs a storage call, translating unavailability.</summary>
    public static async Task RunAsync(string operation, Func<CancellationToken, Task> call, CancellationToken cancellationToken)
    {
        try
        {
            await call(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnavailable(ex, cancellationToken))
        {
            throw Unavailable(operation, ex);
        }
    }

    private static string Describe(Exception exception) => exception switch
    {
        RequestFailedException { Status: 0 } r => r.InnerException?.Message ?? r.Message,
        RequestFailedException r => $"status {r.Status} {r.ErrorCode}",
        AggregateException a => a.InnerExceptions[^1].Message,
        _ => exception.Message,
    };
}
