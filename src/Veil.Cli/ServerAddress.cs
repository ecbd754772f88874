// Which server a client verb talks to, the same for every verb (account, alias, drop, vault):
//   --server URL, else $VEIL_SERVER, else the server the last login used (the session file), else
//   http://127.0.0.1:5080 — where `veil serve` and ./serve.sh listen by default — so a newcomer who just
//   started the server on this machine never has to name it.
using Veil.Cli.Account;

namespace Veil.Cli;

internal static class ServerAddress
{
    public const string Variable = "VEIL_SERVER";

    /// <summary>The server when nothing names one: <c>veil serve</c>'s default address.</summary>
    public const string Default = ServeCommand.DefaultUrl;

    /// <summary>The server URL text for a verb, never null (see the file header for the order).</summary>
    public static string Resolve(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option))
        {
            return option;
        }

        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } environment && !string.IsNullOrWhiteSpace(environment))
        {
            return environment;
        }

        return SessionStore.Default().Load()?.Server is { Length: > 0 } last ? last : Default;
    }

    /// <summary>True when the user named a server (option or environment), so a link's own origin must not win.</summary>
    public static bool Named(string? option) =>
        !string.IsNullOrWhiteSpace(option) || !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Variable));
}
