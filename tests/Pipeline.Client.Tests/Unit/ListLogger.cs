using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Pipeline.Client.Tests.Unit;

/// <summary>A logger that keeps every message, to check what the client reports.</summary>
internal sealed class ListLogger : ILogger<PipelineClient>
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, formatter(state, exception)));
}
