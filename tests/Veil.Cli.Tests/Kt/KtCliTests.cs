using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Platform.Jobs;
using Veil.Server.Tests.Kit;
using Veil.Server.Transparency;
using static Veil.Cli.Tests.CliAccounts;

namespace Veil.Cli.Tests.Kt;

/// <summary>
/// `veil kt status` and `veil kt verify ADDRESS` as a child process against the in-process server (its sequencer run
/// when the test says): the first verify pins the server's policy and stores the checkpoint, status shows them, a
/// later verify checks consistency with the stored one.
/// </summary>
[Collection(AccountVerbsTestGroup.Name)]
public sealed class KtCliTests : IAsyncLifetime
{
    private const string Domain = "mail.example";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "veil-kt-cli-" + Guid.NewGuid().ToString("N")[..12]);
    private VeilTestServer _server = null!;

    public async Task InitializeAsync() => _server = await VeilTestServer.StartAsync(o =>
    {
        o.Settings["Veil:Mail:Domains:0"] = Domain;
        o.Settings["Veil:KeyTransparency:SequencerInterval"] = "00:10:00";
        o.Settings["Veil:RateLimits:ip:PermitLimit"] = "100000";
    });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task Verify_ThenStatus_ShowWhatWasCheckedAndPinned()
    {
        var cli = new VeilCli(_server.BaseAddress, Path.Combine(_root, "config"));
        await cli.SignUpAsync(_server, "judy@example.org");
        Ok(await cli.RunAsync(["mail", "address", "add", "judy@" + Domain, "--password-stdin"], StrongPassword + "\n"));
        await SequenceAsync();

        var first = Ok(await cli.RunAsync(["kt", "verify", "judy@" + Domain, "--json"])).Json.Single();
        Ok(await cli.RunAsync(["mail", "address", "add", "judy.two@" + Domain, "--password-stdin"], StrongPassword + "\n"));
        await SequenceAsync();
        var second = Ok(await cli.RunAsync(["kt", "verify", "judy@" + Domain]));
        var status = Ok(await cli.RunAsync(["kt", "status", "--json"])).Json.Single();

        Assert.True(first.GetProperty("verified").GetBoolean());
        Assert.Equal(1, first.GetProperty("size").GetInt64());
        Assert.Contains("consistent with the checkpoint seen before (size 1)", second.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, status.GetProperty("size").GetInt64());
        Assert.Equal("none", status.GetProperty("quorum").GetString());
        Assert.EndsWith(await _server.Client.GetStringAsync(new Uri("/kt/vkey", UriKind.Relative)), status.GetProperty("logKey").GetString() + "\n", StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_AnAddressWhoseKeyIsNotYetPublished_IsRefusedInOneLine()
    {
        var cli = new VeilCli(_server.BaseAddress, Path.Combine(_root, "config2"));
        await cli.SignUpAsync(_server, "ken@example.org");
        await SequenceAsync();
        Ok(await cli.RunAsync(["mail", "address", "add", "ken@" + Domain, "--password-stdin"], StrongPassword + "\n"));

        var refused = await cli.RunAsync(["kt", "verify", "ken@" + Domain]);

        Assert.Equal(1, refused.ExitCode);
        Assert.Equal($"veil: ken@{Domain}: refused: the key of ken@{Domain} is not yet in a published key transparency checkpoint: try again in a moment", refused.Stderr.Trim());
    }

    [Fact]
    public async Task MailSend_AfterThePolicyIsPinned_RefusesAKeySwappedByTheServer()
    {
        var cli = new VeilCli(_server.BaseAddress, Path.Combine(_root, "config3"));
        await cli.SignUpAsync(_server, "leo@example.org");
        Ok(await cli.RunAsync(["mail", "address", "add", "leo@" + Domain, "--password-stdin"], StrongPassword + "\n"));
        Ok(await cli.RunAsync(["mail", "address", "add", "mia@" + Domain, "--password-stdin"], StrongPassword + "\n"));
        await SequenceAsync();
        Ok(await cli.RunAsync(["kt", "verify", "mia@" + Domain]));
        Ok(await cli.RunAsync(["mail", "send", "--to", "mia@" + Domain, "--subject", "before", "--body", "logged key", "--password-stdin"], StrongPassword + "\n"));

        // The operator serves leo's key for mia, behind the log's back (through the server's own data layer).
        await using (var scope = _server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Veil.Server.Platform.Persistence.VeilDbContext>();
            var rows = db.Set<Veil.Server.Mailbox.MailAddress>().ToList();
            rows.Single(r => r.Address == "mia@" + Domain).PublicKey = rows.Single(r => r.Address == "leo@" + Domain).PublicKey;
            await db.SaveChangesAsync();
        }

        var refused = await cli.RunAsync(["mail", "send", "--to", "mia@" + Domain, "--subject", "after", "--body", "swapped key", "--password-stdin"], StrongPassword + "\n");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"refusing to encrypt to mia@{Domain}: the key the server gave for mia@{Domain} is not the one its key transparency log shows", refused.Stderr, StringComparison.Ordinal);
    }

    private async Task SequenceAsync()
        => Assert.True(await _server.Services.GetRequiredService<PeriodicJobRunner>().RunNowAsync(KtSequencer.JobName, CancellationToken.None));
}
