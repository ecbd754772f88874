// The second independent peer for DKIM (dkimpy is the first, DkimPeerTests): MimeKit 4.18.2, a test-only oracle
// (ADR 0002). Veil's RSA and Ed25519 signatures verify in MimeKit; MimeKit's signatures, in both canonicalizations and
// both algorithms, verify in Veil. Keys come from dkimpy's test data (but see VeilKey); the DNS lookup is faked at the edge on both sides.
using System.Text;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Veil.Mail.Dkim;
using DkimSigner = Veil.Mail.Dkim.DkimSigner;
using DkimVerifier = Veil.Mail.Dkim.DkimVerifier;
using MimeKitMessage = MimeKit.MimeMessage;

namespace Veil.Mail.Tests.Dkim;

public sealed class DkimMimeKitTests
{
    private static readonly byte[] PlainMessage = TestFiles.Crlf("""
        From: Alice Example <alice@example.org>
        To: bob@example.net
        Subject: Cross check   with  spaces and =?utf-8?q?caf=C3=A9?=
        Date: Mon, 07 Dec 2026 10:00:00 +0000
        Message-ID: <mimekit-1@example.org>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        Hello Bob,  
        	tabbed line

        Bye.


        """);

    private static readonly byte[] MultipartMessage = TestFiles.Crlf("""
        From: Alice Example <alice@example.org>
        To: Bob <bob@example.net>,
         Carol <carol@example.net>
        Subject: A folded
          subject line
        Date: Mon, 07 Dec 2026 10:00:00 +0000
        Message-ID: <mimekit-2@example.org>
        MIME-Version: 1.0
        Content-Type: multipart/alternative; boundary="b1"

        --b1
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: quoted-printable

        caf=C3=A9 au lait=20
        --b1
        Content-Type: text/html; charset=utf-8

        <p>caf&eacute;</p>
        --b1--

        """);

    public static TheoryData<string, string> VeilSigned() => new()
    {
        { "rsa", "plain" },
        { "rsa", "multipart" },
        { "ed25519", "plain" },
        { "ed25519", "multipart" },
    };

    public static TheoryData<string, string, string> MimeKitSigned()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var algorithm in new[] { "rsa", "ed25519" })
        {
            foreach (var canonicalization in new[] { "simple", "relaxed" })
            {
                foreach (var message in new[] { "plain", "multipart" })
                {
                    data.Add(algorithm, canonicalization, message);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(VeilSigned))]
    public void MimeKit_VerifiesVeilSignature(string algorithm, string message)
    {
        using var key = VeilKey(algorithm);
        var signer = new DkimSigner(new DkimSignerOptions { Domain = "example.org", Selector = "veil" }, key, new FixedTimeProvider(DateTimeOffset.UtcNow));
        var signed = signer.Sign(Message(message));

        var (parsed, signature) = ParseWithSignature(signed);
        var verifier = MimeKitVerifier(DkimDnsRecord.For(key));

        Assert.True(verifier.Verify(parsed, signature));
    }

    [Theory]
    [MemberData(nameof(VeilSigned))]
    public void MimeKit_RejectsVeilSignatureAfterTampering(string algorithm, string message)
    {
        using var key = VeilKey(algorithm);
        var signer = new DkimSigner(new DkimSignerOptions { Domain = "example.org", Selector = "veil" }, key, new FixedTimeProvider(DateTimeOffset.UtcNow));
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(signer.Sign(Message(message))).Replace("Bob", "Bub", StringComparison.Ordinal));

        var (parsed, signature) = ParseWithSignature(tampered);

        Assert.False(MimeKitVerifier(DkimDnsRecord.For(key)).Verify(parsed, signature));
    }

    [Theory]
    [MemberData(nameof(MimeKitSigned))]
    public async Task Veil_VerifiesMimeKitSignature(string algorithm, string canonicalization, string message)
    {
        var (signed, record) = SignWithMimeKit(algorithm, canonicalization, Message(message));
        Assert.Contains($"c={canonicalization}/{canonicalization}", Encoding.ASCII.GetString(signed), StringComparison.Ordinal);
        var verifier = new DkimVerifier(new StaticKeyResolver(new Dictionary<string, string> { ["mimekit._domainkey.example.org"] = record }), TimeProvider.System);

        var results = await verifier.VerifyAsync(signed, CancellationToken.None);

        Assert.Equal(DkimVerificationStatus.Pass, Assert.Single(results).Status);
    }

    [Theory]
    [InlineData("rsa", "simple")]
    [InlineData("ed25519", "relaxed")]
    public async Task Veil_RejectsMimeKitSignatureAfterTampering(string algorithm, string canonicalization)
    {
        var (signed, record) = SignWithMimeKit(algorithm, canonicalization, PlainMessage);
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(signed).Replace("Hello Bob", "Hello Bub", StringComparison.Ordinal));
        var verifier = new DkimVerifier(new StaticKeyResolver(new Dictionary<string, string> { ["mimekit._domainkey.example.org"] = record }), TimeProvider.System);

        var results = await verifier.VerifyAsync(tampered, CancellationToken.None);

        Assert.Equal(DkimVerificationStatus.Fail, Assert.Single(results).Status);
    }

    private static byte[] Message(string name) => name == "plain" ? PlainMessage : MultipartMessage;

    // dkimpy's RSA test key is 1024 bits, which Veil refuses to sign with (RFC 8301), so Veil signs RSA with a fresh
    // 2048-bit key; MimeKit's signatures keep the 1024-bit key, which verifiers must still accept.
    private static DkimSigningKey VeilKey(string algorithm) => algorithm == "rsa"
        ? DkimSigningKey.GenerateRsa2048()
        : DkimSigningKey.ImportEd25519Seed(Convert.FromBase64String(File.ReadAllText(TestFiles.Vectors("dkim", "dkimpy_data", "ed25519test.key")).Trim()));

    private static (MimeKitMessage Message, Header Signature) ParseWithSignature(byte[] signed)
    {
        var parsed = MimeKitMessage.Load(new MemoryStream(signed));
        var signature = parsed.Headers.First(h => h.Id == HeaderId.DkimSignature);
        return (parsed, signature);
    }

    private static MimeKit.Cryptography.DkimVerifier MimeKitVerifier(string record)
    {
        var verifier = new MimeKit.Cryptography.DkimVerifier(new FixedKeyLocator(record));
        verifier.Enable(DkimSignatureAlgorithm.Ed25519Sha256);
        return verifier;
    }

    private static (byte[] Signed, string Record) SignWithMimeKit(string algorithm, string canonicalization, byte[] message)
    {
        var mode = canonicalization == "simple" ? DkimCanonicalizationAlgorithm.Simple : DkimCanonicalizationAlgorithm.Relaxed;
        MimeKit.Cryptography.DkimSigner signer;
        string record;
        if (algorithm == "rsa")
        {
            signer = new MimeKit.Cryptography.DkimSigner(TestFiles.Vectors("dkim", "dkimpy_data", "test.private"), "example.org", "mimekit", DkimSignatureAlgorithm.RsaSha256);
            record = File.ReadAllText(TestFiles.Vectors("dkim", "dkimpy_data", "test.txt")).Trim();
        }
        else
        {
            var seed = Convert.FromBase64String(File.ReadAllText(TestFiles.Vectors("dkim", "dkimpy_data", "ed25519test.key")).Trim());
            signer = new MimeKit.Cryptography.DkimSigner(new Ed25519PrivateKeyParameters(seed), "example.org", "mimekit", DkimSignatureAlgorithm.Ed25519Sha256);
            record = File.ReadAllText(TestFiles.Vectors("dkim", "dkimpy_data", "ed25519test.dns")).Trim();
        }

        signer.HeaderCanonicalizationAlgorithm = mode;
        signer.BodyCanonicalizationAlgorithm = mode;
        var parsed = MimeKitMessage.Load(new MemoryStream(message));
        signer.Sign(parsed, ["From", "To", "Subject", "Date", "Message-ID", "Content-Type"]);

        // MimeKit writes the host's line endings by default; mail is CRLF.
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        using var output = new MemoryStream();
        parsed.WriteTo(options, output);
        return (output.ToArray(), record);
    }

    /// <summary>The DNS edge for MimeKit: every lookup answers the one TXT record.</summary>
    private sealed class FixedKeyLocator(string record) : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            GetPublicKey(record);

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(GetPublicKey(record));
    }
}
