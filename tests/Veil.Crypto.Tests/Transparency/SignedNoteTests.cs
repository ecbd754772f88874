using System.Text;
using Veil.Crypto.Primitives;
using Veil.Crypto.Transparency;

namespace Veil.Crypto.Tests.Transparency;

/// <summary>
/// C2SP signed notes against the published examples: the signed-note specification's "example.com/foo" note and
/// verifier key, and the PeterNeumann/EnochRoot notes of the Go reference implementation's documentation and tests
/// (golang.org/x/mod/sumdb/note), whose signing key is published, so Ed25519's determinism lets Veil reproduce
/// the note byte for byte.
/// </summary>
public sealed class SignedNoteTests
{
    private const string SpecVerifierKey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    private const string SpecNote = "This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    private const string PeterSignerKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    private const string PeterVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    private const string EnochVerifierKey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
    private const string PeterText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    private const string PeterLine = "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    private const string EnochLine = "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    [Fact]
    public void SpecExample_VerifiesAndReserialisesByteForByte()
    {
        var verifier = Ed25519NoteVerifier.Parse(SpecVerifierKey)!;

        var note = SignedNote.Open(Encoding.UTF8.GetBytes(SpecNote), [verifier]);

        Assert.NotNull(note);
        Assert.Equal("This is an example message.\n", note.Text);
        Assert.Equal(0x530d903au, verifier.KeyId);
        Assert.Equal(SpecVerifierKey, verifier.VerifierKey);
        Assert.Equal(SpecNote, note.ToString());
    }

    [Fact]
    public void GoExample_SignedWithThePublishedKey_IsReproducedByteForByte()
    {
        using var key = PeterKey();
        var signer = new Ed25519NoteSigner("PeterNeumann", key);

        var note = SignedNote.Sign(PeterText, signer);

        Assert.Equal(PeterText + "\n" + PeterLine, note.ToString());
        Assert.Equal(0xc74f20a3u, signer.KeyId);
        Assert.Equal(PeterVerifierKey, signer.VerifierKey);
    }

    [Fact]
    public void TwoSignatures_EachKnownKeyVerifies_UnknownLinesAreIgnored()
    {
        var both = Encoding.UTF8.GetBytes(PeterText + "\n" + PeterLine + EnochLine);
        var peter = Ed25519NoteVerifier.Parse(PeterVerifierKey)!;
        var enoch = Ed25519NoteVerifier.Parse(EnochVerifierKey)!;

        Assert.True(SignedNote.TryParse(both, out var note));
        Assert.Equal(["PeterNeumann", "EnochRoot"], note.Verify([peter, enoch])!.Select(s => s.Name));
        Assert.Equal(["EnochRoot"], note.Verify([enoch])!.Select(s => s.Name));
        Assert.Equal(["PeterNeumann"], note.Verify([peter])!.Select(s => s.Name));
    }

    [Fact]
    public void Verify_SameNameOtherKeyId_IsIgnoredNotFailed()
    {
        using var other = Ed25519PrivateKey.Generate();
        var otherPeter = new Ed25519NoteVerifier("PeterNeumann", other.PublicKey);
        var note = Parse(PeterText + "\n" + PeterLine + EnochLine);

        Assert.Null(note.Verify([otherPeter])); // no known key signed
        Assert.Single(note.Verify([otherPeter, Ed25519NoteVerifier.Parse(EnochVerifierKey)!])!);
    }

    [Fact]
    public void Verify_KnownKeyWithBadSignature_RefusesTheWholeNote()
    {
        var forged = PeterLine.Replace("KE6Ryy", "KE6Ryz", StringComparison.Ordinal); // inside the signature, not the key ID
        var note = Parse(PeterText + "\n" + forged + EnochLine);

        Assert.Null(note.Verify([Ed25519NoteVerifier.Parse(PeterVerifierKey)!, Ed25519NoteVerifier.Parse(EnochVerifierKey)!]));
        Assert.Null(Parse(PeterText.Replace("answer", "anzwer", StringComparison.Ordinal) + "\n" + PeterLine).Verify([Ed25519NoteVerifier.Parse(PeterVerifierKey)!]));
    }

    [Theory]
    [InlineData("no blank line\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")]
    [InlineData("text\n\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=")] // no final newline
    [InlineData("text\n\n-- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")] // not an em dash
    [InlineData("text\n\n\u2014 Peter Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")] // space in name
    [InlineData("text\n\n\u2014 Peter+Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")] // plus in name
    [InlineData("text\n\n\u2014 PeterNeumann AAAA\n")] // shorter than a key ID
    [InlineData("text\n\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n")] // unpadded
    [InlineData("te\txt\n\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")] // control character
    [InlineData("text\n\n")] // no signature line
    public void TryParse_MalformedNotes_AreRefused(string note)
        => Assert.False(SignedNote.TryParse(Encoding.UTF8.GetBytes(note), out _));

    [Fact]
    public void TryParse_InvalidUtf8_IsRefused()
        => Assert.False(SignedNote.TryParse([.. "text\n\n"u8, 0xff, .. "\n"u8], out _));

    [Fact]
    public void TryParse_MoreThanAHundredSignatures_IsRefused()
    {
        var lines = string.Concat(Enumerable.Repeat(PeterLine, 101));

        Assert.True(SignedNote.TryParse(Encoding.UTF8.GetBytes(PeterText + "\n" + string.Concat(Enumerable.Repeat(PeterLine, 100))), out _));
        Assert.False(SignedNote.TryParse(Encoding.UTF8.GetBytes(PeterText + "\n" + lines), out _));
    }

    [Theory]
    [InlineData("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")] // wrong key ID
    [InlineData("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T")] // bad base64
    [InlineData("PeterNeumann+c74f20a3")] // missing key
    [InlineData("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")] // space in name
    public void VerifierKey_Malformed_IsRefused(string vkey) => Assert.Null(Ed25519NoteVerifier.Parse(vkey));

    [Fact]
    public void VerifierKey_OfAnotherType_IsNotAnEd25519Verifier()
    {
        using var key = Ed25519PrivateKey.Generate();
        var cosigner = new CosignatureV1Signer("witness.example/w1", key, TimeProvider.System);

        Assert.Null(Ed25519NoteVerifier.Parse(cosigner.VerifierKey));
        Assert.NotNull(CosignatureV1Verifier.Parse(cosigner.VerifierKey));
    }

    [Fact]
    public void Sign_InvalidTextOrName_Throws()
    {
        using var key = Ed25519PrivateKey.Generate();

        Assert.Throws<ArgumentException>(() => SignedNote.Sign("no newline", new Ed25519NoteSigner("a", key)));
        Assert.Throws<ArgumentException>(() => new Ed25519NoteSigner("a b", key));
        Assert.Throws<ArgumentException>(() => new Ed25519NoteSigner("a+b", key));
    }

    internal static Ed25519PrivateKey PeterKey()
    {
        var material = Convert.FromBase64String(PeterSignerKey.Split('+', 5)[4]);
        Assert.Equal((byte)NoteSignatureType.Ed25519, material[0]);
        return Ed25519PrivateKey.ImportSeed(material.AsSpan(1));
    }

    private static SignedNote Parse(string note)
    {
        Assert.True(SignedNote.TryParse(Encoding.UTF8.GetBytes(note), out var parsed));
        return parsed;
    }
}
