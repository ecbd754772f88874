// Wake-ups between nodes. A module stores its state in the database first, then publishes a short
// id on a channel so that every node (this one included) can look at the rows again. The bus never
// carries the state itself: a lost wake-up costs latency, never data, because every subscriber also
// re-reads everything on a resync (the listener reconnected, so wake-ups may have been missed).
//
// SQLite is one node: the in-process bus calls the handlers directly. PostgreSQL may be several
// nodes: NOTIFY on the publishing side, LISTEN on one dedicated connection per node (PostgresWakeupBus).
// Handlers are singletons registered with AddWakeupHandler<T>(); each names its channel.
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Veil.Server.Platform.Wakeups;

/// <summary>Publishes wake-ups: ids only (a mailbox, a device), never content, a sender or a secret.</summary>
internal interface IWakeupBus
{
    /// <summary>
    /// Wakes the handlers of <paramref name="channel"/> on every node with <paramref name="payload"/>. Call it after the
    /// rows it points at are committed. A failure to publish is logged, not thrown: the rows are stored, and nodes that
    /// missed the wake-up catch up on their next resync.
    /// </summary>
    Task PublishAsync(string channel, string payload, CancellationToken cancellationToken);
}

/// <summary>Receives the wake-ups of one channel. Called on the bus's thread: return quickly (signal, do not work).</summary>
internal interface IWakeupHandler
{
    /// <summary>Lowercase letters, digits and underscores (a PostgreSQL channel identifier), at most 63 characters.</summary>
    string Channel { get; }

    /// <summary>One wake-up. The payload comes from any node: parse it defensively.</summary>
    void OnWakeup(string payload);

    /// <summary>Wake-ups may have been missed (the listener was disconnected): re-read everything that is watched.</summary>
    void OnResync();
}

internal static partial class WakeupChannel
{
    public const int MaxPayloadLength = 200;

    public static void Validate(string channel, string? payload = null)
    {
        if (!ChannelPattern().IsMatch(channel))
        {
            throw new ArgumentException($"Wake-up channel '{channel}' must be lowercase letters, digits and underscores, at most 63.", nameof(channel));
        }

        if (payload is not null && payload.Length > MaxPayloadLength)
        {
            throw new ArgumentException($"A wake-up payload is an id of at most {MaxPayloadLength} characters.", nameof(payload));
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex ChannelPattern();
}

/// <summary>One node (SQLite): a publish calls this node's handlers of the channel directly.</summary>
internal sealed class InProcessWakeupBus(IEnumerable<IWakeupHandler> handlers) : IWakeupBus
{
    private readonly IWakeupHandler[] _handlers = [.. handlers];

    public Task PublishAsync(string channel, string payload, CancellationToken cancellationToken)
    {
        WakeupChannel.Validate(channel, payload);
        foreach (var handler in _handlers)
        {
            if (handler.Channel == channel)
            {
                handler.OnWakeup(payload);
            }
        }

        return Task.CompletedTask;
    }
}

internal static class WakeupsSetup
{
    /// <summary>The PostgreSQL bus when <c>ConnectionStrings:Postgres</c> is set (the same test as persistence), else the in-process one.</summary>
    public static IServiceCollection AddVeilWakeups(this IServiceCollection services, IConfiguration configuration)
    {
        var postgres = configuration["ConnectionStrings:Postgres"];
        if (!string.IsNullOrWhiteSpace(postgres))
        {
            services.TryAddSingleton(sp => ActivatorUtilities.CreateInstance<PostgresWakeupBus>(sp, postgres));
            services.TryAddSingleton<IWakeupBus>(sp => sp.GetRequiredService<PostgresWakeupBus>());
            services.AddHostedService(sp => sp.GetRequiredService<PostgresWakeupBus>());
        }
        else
        {
            services.TryAddSingleton<IWakeupBus, InProcessWakeupBus>();
        }

        return services;
    }

    public static IServiceCollection AddWakeupHandler<THandler>(this IServiceCollection services)
        where THandler : class, IWakeupHandler
    {
        services.TryAddSingleton<THandler>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IWakeupHandler, THandler>(sp => sp.GetRequiredService<THandler>()));
        return services;
    }
}
