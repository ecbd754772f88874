// The open chat sockets of this node, by device. Storing a message wakes the recipient device's
// sockets on every node through the wake-up bus (Platform/Wakeups); removing a device closes its
// sockets on every node the same way. Rows stay the truth: a socket that misses a wake-up still
// delivers everything on the next one, on a resync (the bus's listener reconnected) or when it reconnects.
using System.Collections.Concurrent;
using System.Globalization;
using Veil.Server.Platform.Wakeups;

namespace Veil.Server.Chat;

internal sealed class ChatConnections : IWakeupHandler
{
    /// <summary>The bus channel; payloads are <c>w:&lt;account&gt;:&lt;device&gt;</c> (new rows) or <c>r:&lt;account&gt;:&lt;device&gt;</c> (removed): a mailbox id, nothing else.</summary>
    public const string WakeupChannel = "veil_chat";

    private readonly ConcurrentDictionary<(Guid Account, int Device), ConcurrentDictionary<ChatConnection, byte>> _byDevice = new();

    public string Channel => WakeupChannel;

    public static string NewRowsPayload(Guid accountId, int deviceId) => string.Create(CultureInfo.InvariantCulture, $"w:{accountId:N}:{deviceId}");

    public static string RemovedPayload(Guid accountId, int deviceId) => string.Create(CultureInfo.InvariantCulture, $"r:{accountId:N}:{deviceId}");

    public void Add(ChatConnection connection) =>
        _byDevice.GetOrAdd((connection.AccountId, connection.DeviceId), _ => new()).TryAdd(connection, 0);

    public void Remove(ChatConnection connection)
    {
        if (_byDevice.TryGetValue((connection.AccountId, connection.DeviceId), out var set))
        {
            set.TryRemove(connection, out _);
        }
    }

    public void Wake(Guid accountId, int deviceId)
    {
        if (_byDevice.TryGetValue((accountId, deviceId), out var set))
        {
            foreach (var connection in set.Keys)
            {
                connection.Wake();
            }
        }
    }

    public async Task CloseDeviceAsync(Guid accountId, int deviceId)
    {
        if (_byDevice.TryRemove((accountId, deviceId), out var set))
        {
            await Task.WhenAll(set.Keys.Select(c => c.CloseAsync(ChatCloseCodes.DeviceRemoved, "device-removed")));
        }
    }

    public void OnWakeup(string payload)
    {
        var parts = payload.Split(':');
        if (parts.Length != 3 || !Guid.TryParseExact(parts[1], "N", out var accountId)
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var deviceId))
        {
            return; // not a chat payload: nothing to look at
        }

        switch (parts[0])
        {
            case "w":
                Wake(accountId, deviceId);
                break;
            case "r":
                // Fire and forget: the bus's thread must not wait on sockets; CloseAsync handles a gone peer itself.
                _ = CloseDeviceAsync(accountId, deviceId);
                break;
        }
    }

    /// <summary>Every socket of this node looks at its mailbox again (from the last sequence it delivered).</summary>
    public void OnResync()
    {
        foreach (var set in _byDevice.Values)
        {
            foreach (var connection in set.Keys)
            {
                connection.Wake();
            }
        }
    }
}

/// <summary>Close codes of /chat/ws (spec/chat-api.md, Socket).</summary>
internal static class ChatCloseCodes
{
    public const int PolicyViolation = 1008;
    public const int TooBig = 1009;
    public const int Unauthorized = 4401;
    public const int DeviceRemoved = 4404;
}
