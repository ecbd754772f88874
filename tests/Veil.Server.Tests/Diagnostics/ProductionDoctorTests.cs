// The production self-check against a real server and a DNS server on loopback (dnsmasq): an operator mail domain
// whose MX, SPF, DKIM, DMARC and MTA-STS records are published passes every DNS check; without DMARC it is unsafe and
// the finding says what to publish; without MTA-STS it is a warning. A file made open to other users while the server
// runs is found; on PostgreSQL the clock is compared with the database's.
using Microsoft.Extensions.DependencyInjection;
using Veil.Mail.Dkim;
using Veil.Server.Mail;
using Veil.Server.Platform.Diagnostics;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Diagnostics;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes
public sealed class ProductionDoctorTests
{
    private const string Domain = "doctor.test";

    [Fact]
    public async Task MailDomain_AllRecordsPublished_Ok_ThenWithoutDmarcUnsafe_WithoutMtaStsWarn()
    {
        await using var dns = await LoopbackDns.StartAsync(Domain);
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.Settings["Veil:Mail:Domains:0"] = Domain;
            o.Settings["Veil:Mail:HostName"] = "mx." + Domain;
            o.Settings["Veil:Dns:Servers"] = dns.Servers;
            o.Settings["Veil:Dns:Timeout"] = "00:00:01";
        });
        DkimKeyView key;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            key = (await scope.ServiceProvider.GetRequiredService<DkimKeyAdmin>().CreateAsync(Domain, "s1", DkimAlgorithm.Ed25519Sha256, CancellationToken.None)).Key!;
        }

        dns.Mx(Domain, "mx." + Domain).Txt(Domain, "v=spf1 mx -all").Txt(key.RecordName, key.RecordValue)
            .Txt("_dmarc." + Domain, "v=DMARC1; p=reject").Txt("_mta-sts." + Domain, "v=STSv1; id=20261207");
        await dns.ApplyAsync();

        var findings = await RunAsync(server);
        foreach (var check in new[] { "mx", "spf", "dkim", "dmarc", "mta-sts" })
        {
            var finding = Assert.Single(findings, f => f.Check == $"dns:{Domain}:{check}");
            Assert.True(finding.Status == ProductionDoctor.Ok, $"{finding.Check}: {finding.Status} {finding.Message}");
        }

        Assert.Equal(ProductionDoctor.Ok, Assert.Single(findings, f => f.Check == $"dkim-key:{Domain}").Status);

        await dns.Remove("_dmarc.").Remove("_mta-sts.").ApplyAsync();
        findings = await RunAsync(server);
        var dmarc = Assert.Single(findings, f => f.Check == $"dns:{Domain}:dmarc");
        Assert.Equal(ProductionDoctor.Unsafe, dmarc.Status);
        Assert.Contains($"Publish a TXT record at _dmarc.{Domain}", dmarc.Message, StringComparison.Ordinal);
        var sts = Assert.Single(findings, f => f.Check == $"dns:{Domain}:mta-sts");
        Assert.Equal(ProductionDoctor.Warn, sts.Status);
        Assert.Contains($"https://mta-sts.{Domain}/.well-known/mta-sts.txt", sts.Message, StringComparison.Ordinal);
        Assert.Equal(ProductionDoctor.Ok, Assert.Single(findings, f => f.Check == $"dns:{Domain}:mx").Status);
    }

    [Fact]
    public async Task AFileMadeOpenToOthersWhileRunning_IsUnsafe_NamingItAndTheFix()
    {
        await using var server = await VeilTestServer.StartAsync();
        var before = Assert.Single(await RunAsync(server), f => f.Check == "data-directory");
        Assert.True(before.Status == ProductionDoctor.Ok, before.Message);

        var loose = Path.Combine(server.DataDirectory, "restored-by-hand.txt");
        await File.WriteAllTextAsync(loose, "x");
        File.SetUnixFileMode(loose, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var finding = Assert.Single(await RunAsync(server), f => f.Check == "data-directory");
        Assert.Equal(ProductionDoctor.Unsafe, finding.Status);
        Assert.Contains("restored-by-hand.txt (0644)", finding.Message, StringComparison.Ordinal);
        Assert.Contains("chmod -R go-rwx", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clock_OnPostgresComparedWithTheDatabase_OnSqliteSaysThereIsNothingToCompare()
    {
        await using var server = await VeilTestServer.StartAsync();
        var clock = Assert.Single(await RunAsync(server, new SystemClock()), f => f.Check == "clock");

        Assert.Equal(ProductionDoctor.Ok, clock.Status);
        Assert.Contains(server.Database == "postgres" ? "this machine and PostgreSQL differ by" : "no database clock to compare with", clock.Message, StringComparison.Ordinal);
    }

    private static async Task<IReadOnlyList<DoctorFinding>> RunAsync(VeilTestServer server, TimeProvider? time = null)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var doctor = time is null
            ? scope.ServiceProvider.GetRequiredService<ProductionDoctor>()
            : new ProductionDoctor(scope.ServiceProvider, scope.ServiceProvider.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>(),
                scope.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Platform.Hosting.VeilOptions>>(), time);
        return await doctor.RunAsync(CancellationToken.None);
    }

    /// <summary>The test server's clock is a manual one; the comparison with PostgreSQL's needs the real time.</summary>
    private sealed class SystemClock : TimeProvider;
}
