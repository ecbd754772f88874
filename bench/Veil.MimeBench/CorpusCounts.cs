using System.Text;
using Veil.Mail.Mime;

namespace Veil.MimeBench;

/// <summary>
/// Write-back on the MIME corpus: how many messages each library writes back byte for byte after parsing with no edit
/// (what a forwarder that must not break DKIM needs). MimeKit gets its best chance: CRLF and LF output both tried.
/// </summary>
internal static class CorpusCounts
{
    internal static void Print()
    {
        var files = Directory.GetFiles(MimeBenchmarks.CorpusRoot(), "*.eml", SearchOption.AllDirectories);
        int veil = 0, mimeKit = 0;
        foreach (var path in files)
        {
            var bytes = File.ReadAllBytes(path);
            if (new MimeRewriter(MimeMessage.Parse(bytes)).ToArray().AsSpan().SequenceEqual(bytes))
            {
                veil++;
            }

            using var message = MimeKit.MimeMessage.Load(new MemoryStream(bytes));
            if (WritesBack(message, bytes, MimeKit.NewLineFormat.Dos) || WritesBack(message, bytes, MimeKit.NewLineFormat.Unix))
            {
                mimeKit++;
            }
        }

        Console.WriteLine($"corpus messages: {files.Length}");
        Console.WriteLine($"byte-exact write-back: Veil {veil}/{files.Length}, MimeKit {mimeKit}/{files.Length}");
        VerifyCounts(files);
    }

    /// <summary>
    /// Each corpus message (line endings made CRLF, as on the wire) signed by Veil (Ed25519, relaxed/relaxed), then verified by Veil's verifier and by MimeKit's:
    /// MimeKit verifies its own re-serialisation of the message, so a message it does not write back exactly can fail.
    /// </summary>
    private static void VerifyCounts(string[] files)
    {
        using var key = Veil.Mail.Dkim.DkimSigningKey.GenerateEd25519();
        var record = Veil.Mail.Dkim.DkimDnsRecord.For(key);
        var signer = new Veil.Mail.Dkim.DkimSigner(new Veil.Mail.Dkim.DkimSignerOptions { Domain = "example.org", Selector = "veil" }, key, TimeProvider.System);
        var veilVerifier = new Veil.Mail.Dkim.DkimVerifier(new OneRecord(record), TimeProvider.System);
        var kitVerifier = new MimeKit.Cryptography.DkimVerifier(new OneKitRecord(record));
        kitVerifier.Enable(MimeKit.Cryptography.DkimSignatureAlgorithm.Ed25519Sha256);
        int veil = 0, mimeKit = 0;
        foreach (var path in files)
        {
            // On the wire every line ends in CRLF; most corpus files are stored with LF.
            var text = File.ReadAllBytes(path);
            var wire = text.AsSpan().IndexOf("\r\n"u8) >= 0 ? text : Encoding.Latin1.GetBytes(Encoding.Latin1.GetString(text).ReplaceLineEndings("\r\n"));
            var signed = signer.Sign(wire);
            var results = veilVerifier.VerifyAsync(signed, CancellationToken.None).GetAwaiter().GetResult();
            if (results.Count > 0 && results[0].Status == Veil.Mail.Dkim.DkimVerificationStatus.Pass)
            {
                veil++;
            }

            using var message = MimeKit.MimeMessage.Load(new MemoryStream(signed));
            var header = message.Headers.First(h => h.Id == MimeKit.HeaderId.DkimSignature);
            if (kitVerifier.Verify(message, header))
            {
                mimeKit++;
            }
        }

        Console.WriteLine($"Veil-signed corpus messages that verify: Veil {veil}/{files.Length}, MimeKit {mimeKit}/{files.Length}");
    }

    private sealed class OneRecord(string record) : Veil.Mail.Dkim.IDkimKeyResolver
    {
        public ValueTask<Veil.Mail.Dkim.DkimKeyLookup> ResolveAsync(string selector, string domain, CancellationToken cancellationToken) =>
            ValueTask.FromResult(Veil.Mail.Dkim.DkimKeyLookup.Found(record));
    }

    private sealed class OneKitRecord(string record) : MimeKit.Cryptography.DkimPublicKeyLocatorBase
    {
        public override Org.BouncyCastle.Crypto.AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            GetPublicKey(record);

        public override Task<Org.BouncyCastle.Crypto.AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(GetPublicKey(record));
    }

    private static bool WritesBack(MimeKit.MimeMessage message, byte[] original, MimeKit.NewLineFormat newLine)
    {
        var options = MimeKit.FormatOptions.Default.Clone();
        options.NewLineFormat = newLine;
        using var output = new MemoryStream();
        message.WriteTo(options, output);
        return output.ToArray().AsSpan().SequenceEqual(original);
    }
}
