using System.Runtime.Versioning;
using System.Text.Json;
using System.Text.Json.Nodes;
using Veil.Server.Tests.Kit;

namespace Veil.Cli.Tests.Vault;

/// <summary>`veil vault unlock|lock`, errors in human units and the opt-in recipient notice (issue 15, point 9).</summary>
[UnsupportedOSPlatform("windows")] // file modes
[Collection(AccountVerbsTestGroup.Name)]
public sealed class VaultSessionTests : IAsyncLifetime
{
    private const string Owner = "olivia@example.org";

    private readonly string _root = Directory.CreateTempSubdirectory("veil-vault-session-").FullName;
    private VeilTestServer _server = null!;
    private VeilCli _owner = null!;

    private string SessionFile => Path.Combine(_owner.ConfigDirectory, "vault-session.json");

    public async Task InitializeAsync()
    {
        _server = await VeilTestServer.StartAsync();
        _owner = new VeilCli(_server.BaseAddress, Path.Combine(_root, "owner"));
        await _owner.SignUpAsync(_server, Owner);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Unlock_LaterCommandsAskNoPassword_UntilLock()
    {
        var unlocked = await _owner.RunAsync(["vault", "unlock", "--password-stdin", "--json"], CliAccounts.StrongPassword + "\n");
        Assert.True(unlocked.ExitCode == 0, unlocked.ToString());
        var secret = unlocked.Event("unlocked").GetProperty("session").GetString()!;
        var env = new Dictionary<string, string> { ["VEIL_SESSION"] = secret };

        // No --password-stdin and no terminal: these would fail if a password were asked.
        var created = await _owner.RunAsync(["vault", "create", "Papers", "--json"], string.Empty, env);
        var added = await _owner.RunAsync(["vault", "item", "add", "Papers", "--title", "Bank", "--field", "iban=DE00", "--json"], string.Empty, env);
        var listed = await _owner.RunAsync(["vault", "item", "list", "Papers", "--json"], string.Empty, env);
        var locked = await _owner.RunAsync(["vault", "lock", "--json"], string.Empty, env);
        var after = await _owner.RunAsync(["vault", "list", "--json"], string.Empty, env);

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Equal("Bank", Assert.Single(listed.Event("items").GetProperty("items").EnumerateArray()).GetProperty("title").GetString());
        Assert.True(locked.Event("locked").GetProperty("existed").GetBoolean());
        Assert.False(File.Exists(SessionFile));
        Assert.Equal(2, after.ExitCode); // a password is needed again, and there is no terminal to ask on
    }

    [Fact]
    public async Task Unlock_FileIs0600_HoldsNeitherPasswordNorSecret_AndAloneOpensNothing()
    {
        var unlocked = await _owner.RunAsync(["vault", "unlock", "--password-stdin", "--json"], CliAccounts.StrongPassword + "\n");
        var secret = unlocked.Event("unlocked").GetProperty("session").GetString()!;
        var text = await File.ReadAllTextAsync(SessionFile);

        var withoutVariable = await _owner.RunAsync(["vault", "list", "--json"], string.Empty);
        var wrongVariable = await _owner.RunAsync(["vault", "list", "--json"], string.Empty, new Dictionary<string, string> { ["VEIL_SESSION"] = "A" + secret[1..] == secret ? "B" + secret[1..] : "A" + secret[1..] });

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SessionFile));
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(CliAccounts.StrongPassword, text, StringComparison.Ordinal);
        Assert.Equal(2, withoutVariable.ExitCode);
        Assert.Equal(1, wrongVariable.ExitCode);
        Assert.Contains("does not open the vault session", wrongVariable.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unlock_Expired_IsRefusedAndTheFileDeleted_MovingTheExpiryBreaksTheSeal()
    {
        var secret = (await _owner.RunAsync(["vault", "unlock", "--for", "1h", "--password-stdin", "--json"], CliAccounts.StrongPassword + "\n"))
            .Event("unlocked").GetProperty("session").GetString()!;
        var env = new Dictionary<string, string> { ["VEIL_SESSION"] = secret };
        var original = await File.ReadAllTextAsync(SessionFile);

        await SetExpiryAsync(DateTimeOffset.UtcNow.AddDays(10)); // extended by editing: the seal covers the expiry
        var extended = await _owner.RunAsync(["vault", "list", "--json"], string.Empty, env);
        await File.WriteAllTextAsync(SessionFile, original);
        await SetExpiryAsync(DateTimeOffset.UtcNow.AddMinutes(-1));
        var expired = await _owner.RunAsync(["vault", "list", "--json"], string.Empty, env);

        Assert.Equal(1, extended.ExitCode);
        Assert.Contains("does not open", extended.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, expired.ExitCode);
        Assert.Contains("expired", expired.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(SessionFile));
    }

    [Theory]
    [InlineData("12h", "7d", "--interval must be at least 1 day and at most 365 days")]
    [InlineData("400d", "7d", "--interval must be at least 1 day and at most 365 days")]
    [InlineData("30d", "30m", "--grace must be at least 1 hour and at most 90 days")]
    public async Task SwitchSet_OutOfRange_SaysTheRangeInDaysAndHours(string interval, string grace, string message)
    {
        var result = await _owner.RunAsync(["vault", "create", "Papers", "--password-stdin"], CliAccounts.StrongPassword + "\n");
        Assert.True(result.ExitCode == 0, result.ToString());

        var set = await _owner.RunAsync(["vault", "switch", "set", "Papers", "--interval", interval, "--grace", grace, "--password-stdin"], CliAccounts.StrongPassword + "\n");

        Assert.Equal(2, set.ExitCode);
        Assert.Contains(message, set.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Seconds", set.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecipientAdd_Notify_MailsTheRecipient_WithoutItNoMail()
    {
        Assert.Equal(0, (await _owner.RunAsync(["vault", "create", "Papers", "--password-stdin"], CliAccounts.StrongPassword + "\n")).ExitCode);

        var told = await _owner.RunAsync(["vault", "recipient", "add", "Papers", "bob@example.org", "--notify", "--password-stdin", "--json"], CliAccounts.StrongPassword + "\n");
        var quiet = await _owner.RunAsync(["vault", "recipient", "add", "Papers", "carol@example.org", "--password-stdin", "--json"], CliAccounts.StrongPassword + "\n");

        Assert.True(told.ExitCode == 0, told.ToString());
        Assert.True(told.Event("recipient-added").GetProperty("notified").GetBoolean());
        Assert.True(quiet.ExitCode == 0, quiet.ToString());
        var mail = Assert.Single(_server.ReadOutbox(), m => m.Headers.GetValueOrDefault("To", string.Empty).Contains("bob@example.org", StringComparison.Ordinal));
        Assert.Contains(Owner, mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("Nothing is shared now", mail.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain(_server.ReadOutbox(), m => m.Headers.GetValueOrDefault("To", string.Empty).Contains("carol@", StringComparison.Ordinal));
    }

    private async Task SetExpiryAsync(DateTimeOffset at)
    {
        var node = JsonNode.Parse(await File.ReadAllTextAsync(SessionFile))!;
        node["expiresAt"] = at.ToUnixTimeSeconds();
        await File.WriteAllTextAsync(SessionFile, node.ToJsonString());
    }
}
