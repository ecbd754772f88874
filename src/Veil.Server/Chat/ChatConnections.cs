// The open chat sockets of this node, by device. Storing a message wakes the recipient device's
// sockets here; removing a device closes its sockets here. Rows stay the truth: a socket that misses
// a wake-up still delivers everything when the next one arrives or when it reconnects.
using System.Collections.Concurrent;

namespace Veil.Server.Chat;

internal sealed class ChatConnections
{
    private readonly ConcurrentDictionary<(Guid Account, int Device), ConcurrentDictionary<ChatConnection, byte>> _byDevice = new();

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
}

/// <summary>Close codes of /chat/ws (spec/chat-api.md, Socket).</summary>
internal static class ChatCloseCodes
{
    public const int PolicyViolation = 1008;
    public const int TooBig = 1009;
    public const int Unauthorized = 4401;
    public const int DeviceRemoved = 4404;
}
