// `veil mail domain add|check|list` as processes against the real server and a DNS server on loopback (dnsmasq).
using Veil.Server.Tests.Kit;

namespace Veil.Cli.Tests.Mailbox;

[Collection(AccountVerbsTestGroup.Name)]
public sealed class MailDomainCliTests
{
    [Fact]
    public async Task DomainAddCheckList_FailsUntilTheRecordsArePublishedThenVerifies()
    {
        await using var dns = await LoopbackDns.StartAsync("cli.test");
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Dns:Servers"] = dns.Servers;
            o.Settings["Veil:Mail:HostName"] = "mx.veil.test";
        });
        var cli = new VeilCli(server.BaseAddress, Directory.CreateTempSubdirectory("veil-domain-cli-").FullName);
        await cli.SignUpAsync(server, "dora@example.org");

        var added = CliAccounts.Ok(await cli.RunAsync(["mail", "domain", "add", "cli.test", "--json"])).Event("domain-added").GetProperty("domain");
        var unverified = await cli.RunAsync(["mail", "domain", "check", "cli.test"]);
        Assert.Equal(1, unverified.ExitCode);
        Assert.Contains("_veil.cli.test", unverified.Stdout, StringComparison.Ordinal); // the fix names the record to publish

        await dns.PublishAsListed(added.GetProperty("records")).ApplyAsync();
        var verified = CliAccounts.Ok(await cli.RunAsync(["mail", "domain", "check", "cli.test"]));
        Assert.Contains("cli.test is verified.", verified.Stdout, StringComparison.Ordinal);
        var list = CliAccounts.Ok(await cli.RunAsync(["mail", "domain", "list", "--json"])).Json.Single().GetProperty("domains");
        Assert.True(Assert.Single(list.EnumerateArray()).GetProperty("verified").GetBoolean());
    }
}
