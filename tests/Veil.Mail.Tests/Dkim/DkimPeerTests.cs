using System.Text;
using Veil.Mail.Dkim;

namespace Veil.Mail.Tests.Dkim;

/// <summary>The independent peer: Debian's dkimpy (python3-dkim) verifies Veil's signatures and signs for Veil.</summary>
public sealed class DkimPeerTests
{

    private const string VerifyScript = """
        import sys, dkim
        msg = open(sys.argv[1], 'rb').read()
        rec = open(sys.argv[2], 'rb').read()
        ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: rec)
        print('PASS' if ok else 'FAIL')
        """;

    private const string SignScript = """
        import sys, dkim
        msg = open(sys.argv[1], 'rb').read()
        key = open(sys.argv[2], 'rb').read()
        alg, canon = sys.argv[3].split(':') if ':' in sys.argv[3] else (sys.argv[3], 'relaxed')
        sig = dkim.sign(msg, b'peer', b'example.org', key, signature_algorithm=alg.encode(),
                        canonicalize=(canon.encode(), canon.encode()), include_headers=[b'from', b'to', b'subject', b'date'])
        sys.stdout.buffer.write(sig + msg)
        """;

    private static readonly byte[] Message = TestFiles.Crlf("""
        From: Alice Example <alice@example.org>
        To: bob@example.net
        Subject: Peer check   with  spaces
        Date: Sun, 22 Nov 2026 10:00:00 +0000
        Message-ID: <peer-1@example.org>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        Hello Bob,  
        	tabbed line

        Bye.


        """);

    [Fact]
    public async Task Dkimpy_VerifiesVeilRsaSignature()
    {
        using var key = DkimSigningKey.GenerateRsa2048();
        var signed = Sign(key);

        Assert.Equal("PASS", await RunPythonAsync(VerifyScript, signed, Encoding.ASCII.GetBytes(DkimDnsRecord.For(key))));
    }

    [Fact]
    public async Task Dkimpy_VerifiesVeilEd25519Signature()
    {
        using var key = DkimSigningKey.GenerateEd25519();
        var signed = Sign(key);

        Assert.Equal("PASS", await RunPythonAsync(VerifyScript, signed, Encoding.ASCII.GetBytes(DkimDnsRecord.For(key))));
    }

    [Fact]
    public async Task Dkimpy_VerifiesVeilSignatureWithRfc8032Key()
    {
        var seed = Convert.FromBase64String(File.ReadAllText(TestFiles.Vectors("dkim", "dkimpy_data", "rfc8032_7_1.key")).Trim());
        using var key = DkimSigningKey.ImportEd25519Seed(seed);
        var signed = Sign(key);

        Assert.Equal("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", DkimDnsRecord.For(key));
        Assert.Equal("PASS", await RunPythonAsync(VerifyScript, signed, Encoding.ASCII.GetBytes(DkimDnsRecord.For(key))));
    }

    [Fact]
    public async Task Dkimpy_RejectsVeilSignatureAfterTampering()
    {
        using var key = DkimSigningKey.GenerateEd25519();
        var signed = Encoding.ASCII.GetString(Sign(key)).Replace("Peer check", "Peer chick", StringComparison.Ordinal);

        Assert.Equal("FAIL", await RunPythonAsync(VerifyScript, Encoding.ASCII.GetBytes(signed), Encoding.ASCII.GetBytes(DkimDnsRecord.For(key))));
    }

    [Theory]
    [InlineData("ed25519-sha256", "ed25519test.key", "ed25519test.dns")]
    [InlineData("rsa-sha256", "test.private", "test.txt")]
    [InlineData("ed25519-sha256:simple", "ed25519test.key", "ed25519test.dns")]
    [InlineData("rsa-sha256:simple", "test.private", "test.txt")]
    public async Task Veil_VerifiesDkimpySignature(string algorithm, string keyFile, string recordFile)
    {
        var keyPath = TestFiles.Vectors("dkim", "dkimpy_data", keyFile);
        var signed = Encoding.ASCII.GetBytes(await RunPythonAsync(SignScript, Message, File.ReadAllBytes(keyPath), algorithm, trim: false));
        var canonicalization = algorithm.EndsWith(":simple", StringComparison.Ordinal) ? "simple/simple" : "relaxed/relaxed";
        Assert.Contains("c=" + canonicalization, Encoding.ASCII.GetString(signed).Replace("\r\n", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        var record = File.ReadAllText(TestFiles.Vectors("dkim", "dkimpy_data", recordFile)).Trim();
        var verifier = new DkimVerifier(new StaticKeyResolver(new Dictionary<string, string> { ["peer._domainkey.example.org"] = record }), TimeProvider.System);

        var results = await verifier.VerifyAsync(signed, CancellationToken.None);

        Assert.Equal(DkimVerificationStatus.Pass, Assert.Single(results).Status);
    }

    private static byte[] Sign(DkimSigningKey key)
    {
        var signer = new DkimSigner(new DkimSignerOptions { Domain = "example.org", Selector = "veil2026" }, key, new FixedTimeProvider(DateTimeOffset.UtcNow));
        return signer.Sign(Message);
    }

    private static async Task<string> RunPythonAsync(string script, byte[] first, byte[] second, string? third = null, bool trim = true)
    {
        await Veil.Mail.Tests.Forwarding.Dkimpy.RequireAsync();
        var dir = Directory.CreateTempSubdirectory("veil-dkim-");
        try
        {
            var a = Path.Combine(dir.FullName, "a");
            var b = Path.Combine(dir.FullName, "b");
            await File.WriteAllBytesAsync(a, first);
            await File.WriteAllBytesAsync(b, second);
            var args = new List<string> { "-c", script, a, b };
            if (third is not null)
            {
                args.Add(third);
            }

            var (code, stdout, stderr) = await Veil.Mail.Tests.Forwarding.Dkimpy.RunAsync(args);
            Assert.True(code == 0, $"python3 exited {code}: {stderr}");
            return trim ? stdout.Trim() : stdout;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
