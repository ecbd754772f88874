namespace Veil.Client;

/// <summary>
/// The one sentence every client (account, alias, drop, vault) uses when no HTTP answer arrived, so a user
/// with the server down reads the same line whichever command they ran. The transport's own text is left
/// out: it can name internal hosts, and "connection refused" versus "no route" is not what a user acts on.
/// </summary>
public static class ServerUnreachable
{
    /// <summary>The server did not accept the connection (refused, unknown host, TLS failure…).</summary>
    public static string Message(Uri? server) =>
        $"cannot reach the Veil server at {Origin(server)}: is it running? (start one with 'veil serve', or pass --server URL)";

    /// <summary>The server accepted the connection but did not answer within the client's timeout.</summary>
    public static string TimeoutMessage(Uri? server) =>
        $"the Veil server at {Origin(server)} did not answer in time";

    private static string Origin(Uri? server) =>
        server is null ? "(no address)" : server.GetLeftPart(UriPartial.Authority);
}
