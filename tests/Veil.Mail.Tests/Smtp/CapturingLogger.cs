using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Veil.Mail.Tests.Smtp;

/// <summary>Every log call: the formatted message, each structured value and the exception, as one text.</summary>
internal sealed class CapturingLogger : ILogger
{
    public ConcurrentQueue<(int EventId, string Text)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var text = formatter(state, exception);
        if (state is IEnumerable<KeyValuePair<string, object?>> values)
        {
            text += " | " + string.Join(" | ", values.Select(v => v.Key + "=" + v.Value));
        }

        Entries.Enqueue((eventId.Id, text + (exception is null ? "" : " | " + exception)));
    }
}
