using System.Text;
using Veil.Crypto.Transparency;

namespace Veil.Crypto.Tests.Transparency;

public sealed class CheckpointTests
{
    // The example body of c2sp.org/tlog-checkpoint and tlog-cosignature.
    private const string SpecText = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    [Fact]
    public void SpecExample_ParsesAndFormatsByteForByte()
    {
        Assert.True(Checkpoint.TryParse(SpecText, out var checkpoint));

        Assert.Equal("example.com/behind-the-sofa", checkpoint.Origin);
        Assert.Equal(20852163, checkpoint.Size);
        Assert.Equal(Convert.FromBase64String("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="), checkpoint.RootHash);
        Assert.Empty(checkpoint.Extensions);
        Assert.Equal(SpecText, checkpoint.ToText());
    }

    [Fact]
    public void ExtensionLines_AreKept()
    {
        Assert.True(Checkpoint.TryParse(SpecText + "ext one\n", out var checkpoint));

        Assert.Equal(["ext one"], checkpoint.Extensions);
        Assert.Equal(SpecText + "ext one\n", checkpoint.ToText());
    }

    [Theory]
    [InlineData("example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")] // no final newline
    [InlineData("example.com/log\n020852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")] // leading zero
    [InlineData("example.com/log\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")] // negative
    [InlineData("example.com/log\n+1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")] // sign
    [InlineData("example.com/log\n99999999999999999999\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")] // overflow
    [InlineData("example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n")] // 31 bytes
    [InlineData("example.com/log\n1\n\n")] // empty root
    [InlineData("\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")] // empty origin
    [InlineData("example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n")] // empty extension line
    [InlineData("example.com/log\n1\n")] // two lines
    public void TryParse_Malformed_IsRefused(string text) => Assert.False(Checkpoint.TryParse(text, out _));

    [Fact]
    public void EmptyTree_IsSizeZero()
    {
        var checkpoint = new Checkpoint("veil.example/kt", 0, MerkleHasher.EmptyRoot());

        Assert.Equal("veil.example/kt\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", checkpoint.ToText());
        Assert.True(Checkpoint.TryParse(checkpoint.ToText(), out var parsed));
        Assert.Equal(0, parsed.Size);
    }

    [Fact]
    public void SignedCheckpoint_OpensWithTheLogKey()
    {
        using var key = SignedNoteTests.PeterKey();
        var signer = new Ed25519NoteSigner("veil.example/kt", key);
        var checkpoint = new Checkpoint("veil.example/kt", 5, MerkleHasher.HashLeaf("x"u8));

        var note = SignedNote.Sign(checkpoint.ToText(), signer).ToBytes();
        var opened = SignedNote.Open(note, [new Ed25519NoteVerifier("veil.example/kt", key.PublicKey)]);

        Assert.NotNull(opened);
        Assert.True(Checkpoint.TryParse(opened.Text, out var read));
        Assert.Equal(checkpoint.RootHash, read.RootHash);
        Assert.Null(SignedNote.Open(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(note).Replace("\n5\n", "\n6\n", StringComparison.Ordinal)), [new Ed25519NoteVerifier("veil.example/kt", key.PublicKey)]));
    }
}
