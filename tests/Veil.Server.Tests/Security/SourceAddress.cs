using System.Net;
using System.Net.Sockets;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Security;

/// <summary>Clients that connect from another loopback address (all of 127/8 is loopback on Linux), to be a second source IP.</summary>
internal static class SourceAddress
{
    public static HttpClient Client(VeilTestServer server, string source) =>
        new(new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        { BaseAddress = server.BaseAddress };
}
