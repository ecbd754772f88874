using System.Text.RegularExpressions;
using Veil.Server.Tests.Kit;

namespace Veil.Cli.Tests;

/// <summary>Intent helpers: an account made and signed in through the real <c>veil</c> (register → link in the outbox → verify → login).</summary>
internal static partial class CliAccounts
{
    public const string StrongPassword = "correct horse battery staple";

    /// <summary>Registers <paramref name="email"/>, verifies it with the link from the server's outbox, and logs in (session file in <paramref name="cli"/>'s config).</summary>
    public static async Task SignUpAsync(this VeilCli cli, VeilTestServer server, string email, string password = StrongPassword)
    {
        ArgumentNullException.ThrowIfNull(cli);
        ArgumentNullException.ThrowIfNull(server);
        Ok(await cli.RunAsync(["account", "register", "--email", email, "--password-stdin"], password + "\n"));
        var mail = server.ReadOutbox().Last(m => m.TextBody.Contains("/verify-email#", StringComparison.Ordinal)
            && m.Headers.GetValueOrDefault("To", string.Empty).Contains(email, StringComparison.OrdinalIgnoreCase));
        var link = LinkPattern().Matches(mail.TextBody).Select(m => m.Value).Last(l => l.Contains("/verify-email#", StringComparison.Ordinal));
        Ok(await cli.RunAsync(["account", "verify", link]));
        Ok(await cli.RunAsync(["account", "login", "--email", email, "--password-stdin"], password + "\n"));
    }

    public static CliResult Ok(CliResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex LinkPattern();
}
