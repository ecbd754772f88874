using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;
using Veil.Server.Tests.Kit;

[assembly: SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Scope = "namespace", Target = "~N:Veil.Cli.Tests.Alias",
    Justification = "Test namespaces follow the module's folder (Alias).")]

namespace Veil.Cli.Tests.Alias;

/// <summary>
/// The alias and recipient verbs as processes against the real server with an alias domain. Alias needs a
/// smarthost, so every mail the server sends (account and recipient verification links) arrives in a real SMTP
/// sink: Veil's own engine accepting everything into a file spool.
/// </summary>
[Collection(AccountVerbsTestGroup.Name)]
public sealed partial class AliasCliTests : IAsyncLifetime
{
    private const string Domain = "alias.example";
    private const string Email = "alice@example.org";
    private const string Mailbox = "alice.home@example.net";
    private const string Password = "correct horse battery staple";

    private readonly string _directory = Directory.CreateTempSubdirectory("veil-alias-cli-").FullName;
    private FileSpool _sink = null!;
    private SmtpListener _listener = null!;
    private VeilTestServer _server = null!;
    private VeilCli _cli = null!;

    public async Task InitializeAsync()
    {
        _sink = new FileSpool(Path.Combine(_directory, "sink"));
        _listener = new SmtpServer(new SmtpServerOptions(), new AcceptAll(), _sink, TimeProvider.System).Listen(new IPEndPoint(IPAddress.Loopback, 0));
        _server = await VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Alias:Domains:0"] = Domain;
            o.Settings["Veil:Mail:Smarthost"] = $"127.0.0.1:{_listener.LocalEndPoint.Port}";
            o.Settings["Veil:Mail:SmarthostTls"] = "None";
        });
        _cli = new VeilCli(_server.BaseAddress, Path.Combine(_directory, "config"));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _listener.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Journey_RecipientAliasContactBlockLogDelete_AllThroughTheCli()
    {
        await RegisterAndLoginAsync();

        // recipient add -> the link arrives at the mailbox -> verify (no login needed) -> listed as verified
        var added = Ok(await _cli.RunAsync(["recipient", "add", Mailbox, "--json"])).Event("recipient-added").GetProperty("recipient");
        Assert.False(added.GetProperty("verified").GetBoolean());
        Ok(await _cli.RunAsync(["recipient", "verify", await LinkAsync(Mailbox, "/alias/verify/"), "--json"]));
        var recipients = Ok(await _cli.RunAsync(["recipient", "list", "--json"])).Json.Single().GetProperty("recipients");
        Assert.True(Assert.Single(recipients.EnumerateArray()).GetProperty("verified").GetBoolean());

        // alias create: with a prefix, note and label; and a random one
        var shop = Ok(await _cli.RunAsync(["alias", "create", "--prefix", "Shop", "--note", "the bakery", "--label", "food", "--json"])).Event("alias-created").GetProperty("alias");
        var address = shop.GetProperty("address").GetString()!;
        Assert.Matches(@"^shop\.[a-z0-9]{5}@alias\.example$", address);
        var random = Ok(await _cli.RunAsync(["alias", "create", "--domain", Domain, "--json"])).Event("alias-created").GetProperty("alias");
        Assert.Matches(@"^[a-z]+\.[a-z]+\d{2}@alias\.example$", random.GetProperty("address").GetString()!);
        var list = Ok(await _cli.RunAsync(["alias", "list", "--json"])).Json.Single().GetProperty("aliases");
        Assert.Equal(2, list.GetArrayLength());

        // show by address and by id
        var byAddress = Ok(await _cli.RunAsync(["alias", "show", address.ToUpperInvariant(), "--json"])).Event("alias").GetProperty("alias");
        var byId = Ok(await _cli.RunAsync(["alias", "show", shop.GetProperty("id").GetString()!, "--json"])).Event("alias").GetProperty("alias");
        Assert.Equal("the bakery", byAddress.GetProperty("note").GetString());
        Assert.Equal("food", byId.GetProperty("label").GetString());
        Assert.Equal(added.GetProperty("id").GetString(), Assert.Single(byId.GetProperty("recipientIds").EnumerateArray()).GetString());

        // disable --discard, then enable
        var disabled = Ok(await _cli.RunAsync(["alias", "disable", address, "--discard", "--json"])).Event("alias-disabled").GetProperty("alias");
        Assert.False(disabled.GetProperty("enabled").GetBoolean());
        Assert.Equal("discard", disabled.GetProperty("disabledAction").GetString());
        var enabled = Ok(await _cli.RunAsync(["alias", "enable", address, "--json"])).Event("alias-enabled").GetProperty("alias");
        Assert.True(enabled.GetProperty("enabled").GetBoolean());

        // contact add (a new conversation) -> listed -> blocked by its address
        var contact = Ok(await _cli.RunAsync(["alias", "contact", "add", address, "jane@example.com", "--json"])).Event("contact-added").GetProperty("contact");
        Assert.EndsWith("@" + Domain, contact.GetProperty("reverseAddress").GetString(), StringComparison.Ordinal);
        var contacts = Ok(await _cli.RunAsync(["alias", "contacts", address, "--json"])).Json.Single().GetProperty("contacts");
        Assert.Equal("jane@example.com", Assert.Single(contacts.EnumerateArray()).GetProperty("address").GetString());
        var blocked = Ok(await _cli.RunAsync(["alias", "block", "jane@example.com", "--json"])).Event("contact-blocked").GetProperty("contact");
        Assert.True(blocked.GetProperty("blocked").GetBoolean());
        var unblocked = Ok(await _cli.RunAsync(["alias", "unblock", contact.GetProperty("reverseAddress").GetString()!, "--json"])).Event("contact-unblocked").GetProperty("contact");
        Assert.False(unblocked.GetProperty("blocked").GetBoolean());

        // the log answers (no mail has flowed, so it may be empty) for all and for one alias
        Assert.Equal(JsonValueKind.Array, Ok(await _cli.RunAsync(["alias", "log", "--json"])).Json.Single().GetProperty("entries").ValueKind);
        Assert.Equal(JsonValueKind.Array, Ok(await _cli.RunAsync(["alias", "log", "--alias", address, "--limit", "5", "--json"])).Json.Single().GetProperty("entries").ValueKind);

        // delete: the alias is gone
        Ok(await _cli.RunAsync(["alias", "delete", address, "--json"]));
        var gone = await _cli.RunAsync(["alias", "show", address, "--json"]);
        Assert.Equal(1, gone.ExitCode);
        Assert.StartsWith("veil: not-found:", gone.Stderr, StringComparison.Ordinal);

        // recipient remove by address
        Ok(await _cli.RunAsync(["recipient", "remove", Mailbox, "--json"]));
        Assert.Equal(0, Ok(await _cli.RunAsync(["recipient", "list", "--json"])).Json.Single().GetProperty("recipients").GetArrayLength());
    }

    [Fact]
    public async Task RecipientPgp_SetFromAFileShowsTheFingerprint_ARefusedKeyExplains_ClearRemovesIt()
    {
        await RegisterAndLoginAsync();
        Ok(await _cli.RunAsync(["recipient", "add", Mailbox]));
        Ok(await _cli.RunAsync(["recipient", "verify", await LinkAsync(Mailbox, "/alias/verify/")]));
        var key = Veil.Crypto.OpenPgp.OpenPgpKeys.Generate($"Alice <{Mailbox}>", DateTimeOffset.UtcNow).PublicKey;
        var keyFile = Path.Combine(_directory, "key.asc");
        await File.WriteAllTextAsync(keyFile, key.ToArmored());
        var badFile = Path.Combine(_directory, "bad.asc");
        await File.WriteAllTextAsync(badFile, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----\n");

        var set = Ok(await _cli.RunAsync(["recipient", "pgp", "set", Mailbox, keyFile, "--json"])).Event("recipient-pgp-set").GetProperty("recipient");
        var human = Ok(await _cli.RunAsync(["recipient", "list"]));
        var refused = await _cli.RunAsync(["recipient", "pgp", "set", Mailbox, badFile]);
        var afterRefusal = Ok(await _cli.RunAsync(["recipient", "list", "--json"])).Json.Single().GetProperty("recipients")[0];
        var cleared = Ok(await _cli.RunAsync(["recipient", "pgp", "clear", Mailbox, "--json"])).Event("recipient-pgp-cleared").GetProperty("recipient");

        Assert.Equal(key.Sha256Fingerprint, set.GetProperty("pgpFingerprint").GetString());
        Assert.Contains("verified, PGP", human.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("veil: openpgp-key-malformed:", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("Veil accepts OpenPGP v4 keys", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(key.Sha256Fingerprint, afterRefusal.GetProperty("pgpFingerprint").GetString());
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("pgpFingerprint").ValueKind);
    }

    [Fact]
    public async Task HumanOutput_ListsAliasesAndDomainsInTables()
    {
        await RegisterAndLoginAsync();
        Ok(await _cli.RunAsync(["recipient", "add", Mailbox]));
        Ok(await _cli.RunAsync(["recipient", "verify", await LinkAsync(Mailbox, "/alias/verify/")]));
        var created = Ok(await _cli.RunAsync(["alias", "create", "--prefix", "news", "--label", "newsletters"]));
        var address = AddressPattern().Match(created.Stdout).Value;

        var list = Ok(await _cli.RunAsync(["alias", "list"]));
        var domains = Ok(await _cli.RunAsync(["alias", "domains"]));
        var show = Ok(await _cli.RunAsync(["alias", "show", address]));

        Assert.StartsWith("news.", address, StringComparison.Ordinal);
        Assert.Contains(address, list.Stdout, StringComparison.Ordinal);
        Assert.Contains("newsletters", list.Stdout, StringComparison.Ordinal);
        Assert.Contains("enabled", list.Stdout, StringComparison.Ordinal);
        Assert.Contains(Domain, domains.Stdout, StringComparison.Ordinal);
        Assert.Contains("Forwarded: 0", show.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownAlias_FailsWithNotFoundOnOneLine()
    {
        await RegisterAndLoginAsync();

        var result = await _cli.RunAsync(["alias", "disable", "nobody.abcde@alias.example", "--json"]);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("veil: not-found:", Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task CreateWithoutVerifiedRecipient_FailsWithTheServersCode()
    {
        await RegisterAndLoginAsync();

        var result = await _cli.RunAsync(["alias", "create", "--json"]);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("veil: no-verified-recipient:", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogLimitOutOfRange_IsABadArgument()
    {
        var result = await _cli.RunAsync(["alias", "log", "--limit", "0"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--limit", result.Stderr, StringComparison.Ordinal);
    }

    private CliResult Ok(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result + (result.Stderr.Contains("internal-error", StringComparison.Ordinal) ? "\nserver log:\n" + _server.Logs.AllText : string.Empty));
        return result;
    }

    private async Task RegisterAndLoginAsync()
    {
        Ok(await _cli.RunAsync(["account", "register", "--email", Email, "--password-stdin", "--json"], Password + "\n"));
        Ok(await _cli.RunAsync(["account", "verify", await LinkAsync(Email, "/verify-email#"), "--json"]));
        Ok(await _cli.RunAsync(["account", "login", "--email", Email, "--password-stdin", "--json"], Password + "\n"));
    }

    /// <summary>The newest link containing <paramref name="marker"/> in mail delivered to <paramref name="to"/> at the sink.</summary>
    private async Task<string> LinkAsync(string to, string marker)
    {
        // The queue delivers on its own task: poll with a deadline (not a timing assertion).
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            foreach (var message in (await _sink.PendingAsync(deadline.Token)).Reverse())
            {
                if (!message.Envelope.Recipients.Any(r => r.ToString().Equals(to, StringComparison.OrdinalIgnoreCase)))
                {
                    continue;
                }

                using var reader = new StreamReader(_sink.OpenContent(message.Id), Encoding.UTF8);
                var text = Unwrap(await reader.ReadToEndAsync());
                var link = LinkPattern().Matches(text).Select(m => m.Value).LastOrDefault(l => l.Contains(marker, StringComparison.Ordinal));
                if (link is not null)
                {
                    return link;
                }
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    /// <summary>The message text with quoted-printable soft breaks and base64 bodies undone, enough to find a link.</summary>
    private static string Unwrap(string raw)
    {
        var mail = OutboxMail.Parse("sink", raw);
        return mail.TextBody + "\n" + mail.HtmlBody + "\n" + raw.Replace("=\r\n", "", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex LinkPattern();

    [GeneratedRegex(@"[a-z0-9._-]+@alias\.example")]
    private static partial Regex AddressPattern();

    private sealed class AcceptAll : IRecipientResolver
    {
        public ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken) => ValueTask.FromResult(RecipientDecision.Accept);
    }
}
