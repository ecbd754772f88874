using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;

namespace Veil.Mail.Tests.Smtp;

/// <summary>
/// The delivery client against a real peer with STARTTLS and AUTH: Debian's python3-aiosmtpd driven by
/// peers/aiosmtpd_tls_auth.py (auth required, AUTH only after TLS). The peer records each message's raw bytes and
/// whether its session was encrypted and authenticated. Under CI=true a missing aiosmtpd fails.
/// </summary>
public sealed class SmtpClientTlsAuthTests
{
    private const string User = "veil-relay";
    private const string Password = "correct horse battery staple";

    private static readonly byte[] Message = [.. Encoding.UTF8.GetBytes(
        "From: a@veil.test\r\nTo: x@example.test\r\nSubject: Grüße über TLS\r\n\r\n.leading dot\r\n..two\r\n.\r\nmid.dot\r\n"), 0xE9, 0xFF, (byte)'\r', (byte)'\n'];

    [Theory]
    [InlineData(SmtpTlsMode.Required, false)]
    [InlineData(SmtpTlsMode.Required, true)]
    [InlineData(SmtpTlsMode.Opportunistic, false)]
    [InlineData(SmtpTlsMode.Opportunistic, true)]
    public async Task Deliver_StartTlsAndAuth_PeerReceivesTheBytesSentOverTlsAsTheUser(SmtpTlsMode tls, bool loginOnly)
    {
        if (!SmtpDeliveryClientTests.Available())
        {
            return;
        }

        using var peer = new TlsAuthPeer(loginOnly ? ["--require-starttls", "--login-only"] : ["--require-starttls"]);

        var result = await peer.Client(tls, Password).DeliverAsync(Envelope(), new MemoryStream(Message), CancellationToken.None);

        Assert.True(result.Success, result.Reply);
        var (bytes, session) = Assert.Single(peer.Received());
        Assert.Equal(Message, bytes);
        Assert.True(session.GetProperty("tls").GetBoolean());
        Assert.Equal(User, session.GetProperty("login").GetString());
    }

    [Fact]
    public async Task Deliver_WrongPassword_IsTemporaryAuthFailure_AndNothingIsDelivered()
    {
        if (!SmtpDeliveryClientTests.Available())
        {
            return;
        }

        using var peer = new TlsAuthPeer(["--require-starttls"]);

        var result = await peer.Client(SmtpTlsMode.Required, "wrong").DeliverAsync(Envelope(), new MemoryStream(Message), CancellationToken.None);

        Assert.False(result.Success);
        Assert.False(result.Permanent, result.Reply);
        Assert.Contains("535", result.Reply, StringComparison.Ordinal);
        Assert.Empty(peer.Received());
    }

    [Fact]
    public async Task Deliver_OpportunisticWithCredentials_PeerWithoutTls_RefusesToSendThemInClear()
    {
        if (!SmtpDeliveryClientTests.Available())
        {
            return;
        }

        using var peer = new TlsAuthPeer(["--no-tls"]);

        var result = await peer.Client(SmtpTlsMode.Opportunistic, Password).DeliverAsync(Envelope(), new MemoryStream(Message), CancellationToken.None);

        Assert.False(result.Success);
        Assert.False(result.Permanent);
        Assert.Contains("not encrypted", result.Reply, StringComparison.Ordinal);
        Assert.Empty(peer.Received());
    }

    [Fact]
    public async Task Deliver_TlsRequired_PeerWithoutTls_IsTemporaryFailure()
    {
        if (!SmtpDeliveryClientTests.Available())
        {
            return;
        }

        using var peer = new TlsAuthPeer(["--no-tls"]);

        var result = await peer.Client(SmtpTlsMode.Required, Password).DeliverAsync(Envelope(), new MemoryStream(Message), CancellationToken.None);

        Assert.False(result.Success);
        Assert.False(result.Permanent);
        Assert.Contains("STARTTLS required", result.Reply, StringComparison.Ordinal);
        Assert.Empty(peer.Received());
    }

    [Fact]
    public async Task Deliver_CertificateNotTrusted_IsTemporaryFailure_AndNothingIsSent()
    {
        if (!SmtpDeliveryClientTests.Available())
        {
            return;
        }

        using var peer = new TlsAuthPeer(["--require-starttls"]);
        var client = peer.Client(SmtpTlsMode.Required, Password);
        var untrusting = new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = peer.Port, Tls = SmtpTlsMode.Required, UserName = User, Password = Password });

        var result = await untrusting.DeliverAsync(Envelope(), new MemoryStream(Message), CancellationToken.None);

        Assert.False(result.Success);
        Assert.False(result.Permanent);
        Assert.Contains("AuthenticationException", result.Reply, StringComparison.Ordinal);
        Assert.Empty(peer.Received());
        Assert.True((await client.DeliverAsync(Envelope(), new MemoryStream(Message), CancellationToken.None)).Success);
    }

    private static SmtpEnvelope Envelope() => new("sender@veil.test", ["x@example.test"], true, false, DateTimeOffset.UnixEpoch);

    /// <summary>peers/aiosmtpd_tls_auth.py with a fresh ECDSA certificate for 127.0.0.1 on a free port.</summary>
    private sealed class TlsAuthPeer : IDisposable
    {
        private readonly Process _process;
        private readonly X509Certificate2 _certificate;
        private readonly string _directory = SmtpTestHost.NewTempDir();

        public TlsAuthPeer(string[] flags)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=smarthost.test", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var certPem = Path.Combine(_directory, "cert.pem");
            var keyPem = Path.Combine(_directory, "key.pem");
            File.WriteAllText(certPem, _certificate.ExportCertificatePem());
            File.WriteAllText(keyPem, key.ExportPkcs8PrivateKeyPem());
            Directory.CreateDirectory(OutDirectory);
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }

            var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in (string[])[Path.Combine(AppContext.BaseDirectory, "peers", "aiosmtpd_tls_auth.py"), Port.ToString(CultureInfo.InvariantCulture),
                         OutDirectory, certPem, keyPem, User, Password, .. flags])
            {
                start.ArgumentList.Add(argument);
            }

            _process = Process.Start(start)!;
            if (_process.StandardOutput.ReadLine() != "READY")
            {
                throw new InvalidOperationException("aiosmtpd did not start: " + _process.StandardError.ReadToEnd());
            }
        }

        public int Port { get; }

        private string OutDirectory => Path.Combine(_directory, "out");

        public SmtpDeliveryClient Client(SmtpTlsMode tls, string password) => new(new SmtpClientOptions
        {
            Host = "127.0.0.1",
            Port = Port,
            Tls = tls,
            HeloName = "veil.test",
            UserName = User,
            Password = password,
            ReplyTimeout = TimeSpan.FromSeconds(30),
            TrustedRoots = [X509CertificateLoader.LoadCertificate(_certificate.RawData)],
        });

        public List<(byte[] Bytes, JsonElement Session)> Received() =>
            [.. Directory.GetFiles(OutDirectory, "*.eml").Order(StringComparer.Ordinal)
                .Select(f => (File.ReadAllBytes(f), JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(f, ".json"))).RootElement))];

        public void Dispose()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                _process.Kill();
            }

            _process.Dispose();
            _certificate.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }
}
