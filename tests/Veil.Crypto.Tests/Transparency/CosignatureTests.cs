using System.Diagnostics;
using System.Text;
using Veil.Crypto.Primitives;
using Veil.Crypto.Transparency;

namespace Veil.Crypto.Tests.Transparency;

/// <summary>
/// tlog-cosignature v1 (timestamped Ed25519) cosignatures, checked in both directions against an independent
/// Ed25519: pyca/cryptography (Debian python3-cryptography, probed by test.sh) verifies what Veil signs, and Veil
/// verifies what it signs.
/// </summary>
public sealed class CosignatureTests
{
    private const string SpecText = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeSeconds(1679315147);

    [Fact]
    public void Message_IsTheSpecHeaderTimeLineAndCheckpoint()
    {
        var message = CosignatureV1.Message(1679315147, Encoding.UTF8.GetBytes(SpecText));

        Assert.Equal("cosignature/v1\ntime 1679315147\n" + SpecText, Encoding.UTF8.GetString(message));
    }

    [Fact]
    public void Cosign_ByVeil_VerifiesWithPycaOverTheSpecMessage()
    {
        using var key = Ed25519PrivateKey.Generate();
        var cosigner = new CosignatureV1Signer("witness.example.com/w1", key, new FixedClock(At));
        var note = SignedNote.Sign(SpecText, cosigner);
        var line = note.Signatures.Single();

        var verdict = Python("""
            import sys, base64
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
            pub, blob, text = bytes.fromhex(sys.argv[1]), base64.b64decode(sys.argv[2]), sys.argv[3].encode()
            ts = int.from_bytes(blob[4:12], 'big')
            msg = b'cosignature/v1\ntime ' + str(ts).encode() + b'\n' + text
            Ed25519PublicKey.from_public_bytes(pub).verify(blob[12:], msg)
            print(ts)
            """, Convert.ToHexStringLower(key.PublicKey.Bytes), note.ToString().Split(' ')[^1].Trim(), SpecText);

        Assert.Equal("1679315147", verdict);
        Assert.Equal(cosigner.KeyId, line.KeyId);
        Assert.True(CosignatureV1.TryReadTimestamp(line.Signature, out var timestamp));
        Assert.Equal(1679315147ul, timestamp);
    }

    [Fact]
    public void Cosign_ByPyca_VerifiesWithVeil_AndTamperingIsRefused()
    {
        var output = Python("""
            import sys, base64
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            from cryptography.hazmat.primitives import serialization
            key = Ed25519PrivateKey.generate()
            ts = 1700000000
            sig = key.sign(b'cosignature/v1\ntime ' + str(ts).encode() + b'\n' + sys.argv[1].encode())
            pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            print(pub.hex() + ' ' + (ts.to_bytes(8, 'big') + sig).hex())
            """, SpecText).Split(' ');
        var verifier = new CosignatureV1Verifier("witness.example.com/w1", Ed25519PublicKey.Import(Convert.FromHexString(output[0])));
        var signature = Convert.FromHexString(output[1]);
        var text = Encoding.UTF8.GetBytes(SpecText);

        Assert.True(verifier.Verify(text, signature));
        var laterTime = (byte[])signature.Clone();
        laterTime[7] ^= 1;
        Assert.False(verifier.Verify(text, laterTime));
        Assert.False(verifier.Verify(Encoding.UTF8.GetBytes(SpecText.Replace("20852163", "20852164", StringComparison.Ordinal)), signature));
        Assert.False(verifier.Verify(text, signature.AsSpan(..^1)));
    }

    [Fact]
    public void Cosignature_AndLogSignature_UseDistinctKeyIds_SoOneIsNeverTakenForTheOther()
    {
        using var key = Ed25519PrivateKey.Generate();
        var log = new Ed25519NoteSigner("example.com/behind-the-sofa", key);
        var asWitness = new CosignatureV1Signer("example.com/behind-the-sofa", key, new FixedClock(At));

        var note = SignedNote.Sign(SpecText, asWitness);

        Assert.NotEqual(log.KeyId, asWitness.KeyId);
        Assert.Null(note.Verify([new Ed25519NoteVerifier(log.Name, key.PublicKey)])); // ignored: no known key signed
        Assert.NotNull(note.Verify([new CosignatureV1Verifier(asWitness.Name, key.PublicKey)]));
    }

    [Fact]
    public void TryReadTimestamp_AboveInt64_IsRefused()
    {
        var signature = new byte[CosignatureV1.Length];
        signature[0] = 0x80;

        Assert.False(CosignatureV1.TryReadTimestamp(signature, out _));
        Assert.False(CosignatureV1.TryReadTimestamp(new byte[64], out _));
    }

    private static string Python(string script, params string[] args)
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, "python3 with pyca/cryptography (python3-cryptography) failed: " + errors);
        return output.Trim();
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
