// MTA-STS (RFC 8461) on direct MX delivery, all on loopback: dnsmasq serves the _mta-sts TXT, MX and address records;
// a real Kestrel HTTPS server serves the policy with a certificate from a test CA; aiosmtpd is the MX host, with or
// without STARTTLS (a certificate from the same CA). The CA is trusted through MtaStsPolicies' trusted roots — the
// same path an operator's private CA would take; validation itself is never turned off.
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Veil.Mail.Delivery;
using Veil.Mail.Dns;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;
using Veil.Server.Tests.Alias;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Mailbox;

public sealed class MtaStsDeliveryTests
{
    private const string Domain = "dest.test";
    private const string Mx = "mx.dest.test";

    private static string Policy(string mode, string mx = Mx, int maxAge = 86400) => $"version: STSv1\r\nmode: {mode}\r\nmx: {mx}\r\nmax_age: {maxAge}\r\n";

    [Fact]
    public async Task Enforce_MatchingMxWithValidStartTls_DeliversOverTls_AndTheCachedPolicyIsReusedUntilTheIdChanges()
    {
        using var ca = new TestCa();
        await using var world = await World.StartAsync(ca, Policy("enforce"), sinkCertificateFor: Mx);

        var first = await world.DeliverAsync("bob@" + Domain);
        var second = await world.DeliverAsync("carol@" + Domain);
        var fetchesWithSameId = world.PolicyServer.Fetches;
        world.Dns.Remove("_mta-sts").Txt("_mta-sts." + Domain, "v=STSv1; id=2");
        await world.Dns.ApplyAsync();
        var third = await world.DeliverAsync("dave@" + Domain);

        Assert.True(first.Success, first.Reply);
        Assert.True(second.Success, second.Reply);
        Assert.True(third.Success, third.Reply);
        Assert.All(world.Sink.All(), m => Assert.True(m.OverTls));
        Assert.Equal(3, world.Sink.All().Count);
        Assert.Equal(1, fetchesWithSameId); // cached by id
        Assert.Equal(2, world.PolicyServer.Fetches); // a new id: fetched again
        Assert.Equal("mta-sts." + Domain, world.PolicyServer.LastHost);
    }

    [Fact]
    public async Task Enforce_MxWithoutStartTls_IsDeferredAndNothingIsSent()
    {
        using var ca = new TestCa();
        await using var world = await World.StartAsync(ca, Policy("enforce"), sinkCertificateFor: null);

        var result = await world.DeliverAsync("bob@" + Domain);

        Assert.False(result.Success);
        Assert.False(result.Permanent, result.Reply); // 4xx: the queue retries
        Assert.StartsWith("451 4.7.5", result.Reply, StringComparison.Ordinal);
        Assert.Empty(world.Sink.All());
    }

    [Fact]
    public async Task Enforce_CertificateForAnotherHost_IsDeferredAndNothingIsSent()
    {
        using var ca = new TestCa();
        await using var world = await World.StartAsync(ca, Policy("enforce"), sinkCertificateFor: "other.test");

        var result = await world.DeliverAsync("bob@" + Domain);

        Assert.False(result.Success);
        Assert.False(result.Permanent, result.Reply);
        Assert.StartsWith("451 4.7.5", result.Reply, StringComparison.Ordinal);
        Assert.Empty(world.Sink.All());
    }

    [Fact]
    public async Task Enforce_MxNotListedByThePolicy_IsDeferredWithoutConnecting()
    {
        using var ca = new TestCa();
        await using var world = await World.StartAsync(ca, Policy("enforce", mx: "*.elsewhere.test"), sinkCertificateFor: Mx);

        var result = await world.DeliverAsync("bob@" + Domain);

        Assert.False(result.Permanent, result.Reply);
        Assert.StartsWith("451 4.7.5", result.Reply, StringComparison.Ordinal);
        Assert.Contains("matches its MTA-STS policy", result.Reply, StringComparison.Ordinal);
        Assert.Empty(world.Sink.All());
    }

    [Fact]
    public async Task Enforce_WildcardPatternCoversTheMx_Delivers()
    {
        using var ca = new TestCa();
        await using var world = await World.StartAsync(ca, Policy("enforce", mx: "*.dest.test"), sinkCertificateFor: Mx);

        var result = await world.DeliverAsync("bob@" + Domain);

        Assert.True(result.Success, result.Reply);
        Assert.True(Assert.Single(world.Sink.All()).OverTls);
    }

    [Fact]
    public async Task Testing_MxWithoutStartTls_DeliversAndLogsWhatEnforceWouldHaveRefused()
    {
        using var ca = new TestCa();
        await using var world = await World.StartAsync(ca, Policy("testing"), sinkCertificateFor: null);

        var result = await world.DeliverAsync("bob@" + Domain);

        Assert.True(result.Success, result.Reply);
        Assert.False(Assert.Single(world.Sink.All()).OverTls);
        Assert.Contains("[2482] MTA-STS testing: delivered to an MX host that offered no STARTTLS", world.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(Domain, world.Logs.AllText, StringComparison.Ordinal); // a recipient's domain is not logged
    }

    [Fact]
    public async Task PolicyServerCertificateNotTrusted_PolicyIgnored_DeliveryAsWithoutPolicy()
    {
        using var ca = new TestCa();
        using var stranger = new TestCa(); // the policy host's certificate chains to a CA nobody trusts
        await using var world = await World.StartAsync(ca, Policy("enforce"), sinkCertificateFor: null, policyCa: stranger);

        var result = await world.DeliverAsync("bob@" + Domain);

        Assert.True(result.Success, result.Reply); // no valid policy: opportunistic, as RFC 8461 §5.1 says
        Assert.False(Assert.Single(world.Sink.All()).OverTls);
        Assert.Equal(0, world.PolicyServer.Fetches); // the TLS handshake failed before any request
        Assert.Contains("MTA-STS: a policy could not be fetched (HttpRequestException)", world.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Queue_EnforcedPolicyNeverMet_RetriesThenBouncesVisiblyAtTheQueueLifetime()
    {
        using var ca = new TestCa();
        await using var world = await World.StartAsync(ca, Policy("enforce", maxAge: 31557600), sinkCertificateFor: null);
        var data = Directory.CreateTempSubdirectory("veil-mtasts-queue-").FullName;
        try
        {
            var t0 = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
            using var queue = new OutboundQueue(data, world.Transport, new ManualTimeProvider(t0), new OutboundQueueOptions { ReportingMta = "mx.veil.test", MaxAge = TimeSpan.FromHours(6) });
            var id = await queue.EnqueueAsync(World.Envelope("bob@" + Domain), World.Message("bob@" + Domain), CancellationToken.None);
            var now = t0;
            OutboundRunResult result;
            var passes = 0;
            do
            {
                result = await queue.RunOnceAsync(now, CancellationToken.None);
                passes++;
                now = result.NextDueAt ?? now;
            }
            while (result.Completed == 0 && passes < 50);

            Assert.True(passes > 1, "retried before giving up");
            Assert.Equal(1, result.BouncesQueued);
            var dsn = Assert.Single(await queue.PendingAsync(CancellationToken.None));
            Assert.NotEqual(id, dsn.Id);
            var report = Encoding.UTF8.GetString(await queue.ReadContentAsync(dsn.Id, CancellationToken.None));
            Assert.Contains("Action: failed", report, StringComparison.Ordinal);
            Assert.Contains("MTA-STS", report, StringComparison.Ordinal);
            Assert.Empty(world.Sink.All());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>DNS, the policy server, the MX sink and the transport under test for one domain.</summary>
    private sealed class World : IAsyncDisposable
    {
        private World(LoopbackDns dns, PolicyServer policyServer, MailSink sink, MtaStsPolicies policies, CapturingLoggerProvider logs)
        {
            Dns = dns;
            PolicyServer = policyServer;
            Sink = sink;
            Policies = policies;
            Logs = logs;
            Transport = new DirectMxTransport(new MailDns([dns.EndPoint], TimeSpan.FromSeconds(1)),
                new SmtpClientOptions { HeloName = "mx.veil.test", ReplyTimeout = TimeSpan.FromSeconds(30) }, sink.Port, policies, logs.CreateLogger("Veil.Mail.Delivery"));
        }

        public LoopbackDns Dns { get; }

        public PolicyServer PolicyServer { get; }

        public MailSink Sink { get; }

        public MtaStsPolicies Policies { get; }

        public CapturingLoggerProvider Logs { get; }

        public DirectMxTransport Transport { get; }

        /// <summary>
        /// Starts everything: <c>sinkCertificateFor</c> is the name on the MX sink's certificate (from <c>ca</c>; null:
        /// no STARTTLS), <c>policyCa</c> the CA of the policy host's certificate (default <c>ca</c>, the trusted one).
        /// </summary>
        public static async Task<World> StartAsync(TestCa ca, string policy, string? sinkCertificateFor, TestCa? policyCa = null)
        {
            var policyServer = await PolicyServer.StartAsync((policyCa ?? ca).Issue("mta-sts." + Domain), policy);
            var dns = await LoopbackDns.StartAsync(Domain);
            dns.Txt("_mta-sts." + Domain, "v=STSv1; id=1")
                .Mx(Domain, Mx).Address(Mx, IPAddress.Loopback)
                .Address("mta-sts." + Domain, IPAddress.Loopback);
            await dns.ApplyAsync();
            MailSink sink;
            if (sinkCertificateFor is null)
            {
                sink = new MailSink();
            }
            else
            {
                using var certificate = ca.Issue(sinkCertificateFor);
                sink = new MailSink(tls: (certificate.ExportCertificatePem(), certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem()));
            }

            var logs = new CapturingLoggerProvider();
            var policies = new MtaStsPolicies(new MailDns([dns.EndPoint], TimeSpan.FromSeconds(1)), TimeProvider.System, [ca.Root], policyServer.Port, logs.CreateLogger("Veil.Mail.Delivery"));
            return new World(dns, policyServer, sink, policies, logs);
        }

        public static SmtpEnvelope Envelope(string to) => new("a@veil.test", [to], false, false, DateTimeOffset.UnixEpoch);

        public static byte[] Message(string to) => Encoding.ASCII.GetBytes($"From: a@veil.test\r\nTo: {to}\r\nSubject: mta-sts\r\n\r\nHello\r\n");

        public async Task<SmtpDeliveryResult> DeliverAsync(string to)
        {
            using var content = new MemoryStream(Message(to));
            return await Transport.DeliverAsync(Envelope(to), content, CancellationToken.None);
        }

        public async ValueTask DisposeAsync()
        {
            Policies.Dispose();
            Sink.Dispose();
            await Dns.DisposeAsync();
            await PolicyServer.DisposeAsync();
            Logs.Dispose();
        }
    }

    /// <summary>A real Kestrel HTTPS server on loopback serving one policy at /.well-known/mta-sts.txt.</summary>
    private sealed class PolicyServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly X509Certificate2 _certificate;
        private int _fetches;

        private PolicyServer(WebApplication app, X509Certificate2 certificate)
        {
            _app = app;
            _certificate = certificate;
        }

        public int Port { get; private set; }

        public int Fetches => Volatile.Read(ref _fetches);

        public string? LastHost { get; private set; }

        public static async Task<PolicyServer> StartAsync(X509Certificate2 certificate, string policy)
        {
            var builder = WebApplication.CreateBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
            var app = builder.Build();
            var server = new PolicyServer(app, certificate);
            app.MapGet("/.well-known/mta-sts.txt", (HttpContext context) =>
            {
                Interlocked.Increment(ref server._fetches);
                server.LastHost = context.Request.Host.Host;
                return Results.Text(policy, "text/plain");
            });
            await app.StartAsync();
            server.Port = new Uri(app.Urls.First()).Port;
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.DisposeAsync();
            _certificate.Dispose();
        }
    }

    /// <summary>A throwaway certificate authority (ECDSA P-256) issuing server certificates for one DNS name each.</summary>
    private sealed class TestCa : IDisposable
    {
        private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        public TestCa()
        {
            var request = new CertificateRequest("CN=Veil test CA " + Guid.NewGuid().ToString("N")[..8], _key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            Root = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        }

        public X509Certificate2 Root { get; }

        public X509Certificate2 Issue(string name)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(name);
            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Root, true, false));
            var serial = RandomNumberGenerator.GetBytes(16);
            serial[0] &= 0x7f;
            using var issued = request.Create(Root, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), serial);
            using var withKey = issued.CopyWithPrivateKey(key);
            return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        }

        public void Dispose()
        {
            Root.Dispose();
            _key.Dispose();
        }
    }
}
