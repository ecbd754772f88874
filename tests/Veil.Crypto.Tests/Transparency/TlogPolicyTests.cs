using System.Text;
using Veil.Crypto.Primitives;
using Veil.Crypto.Transparency;

namespace Veil.Crypto.Tests.Transparency;

/// <summary>tlog-policy files, quorum arithmetic, add-checkpoint bodies, and lookups verified under a witness policy.</summary>
public sealed class TlogPolicyTests : IDisposable
{
    private const string Origin = "veil.example/kt";
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeSeconds(1_765_000_000);
    private readonly Ed25519PrivateKey _logKey = Ed25519PrivateKey.Generate();
    private readonly Ed25519PrivateKey[] _witnessKeys = [Ed25519PrivateKey.Generate(), Ed25519PrivateKey.Generate(), Ed25519PrivateKey.Generate()];

    public void Dispose()
    {
        _logKey.Dispose();
        foreach (var key in _witnessKeys)
        {
            key.Dispose();
        }
    }

    [Fact]
    public void Parse_GroupsAndQuorum_CountCosigners()
    {
        var text = $"""
            # two of three, and w3 is one of them
            log {LogVerifier().VerifierKey}
            witness w1 {Cosigner(0).VerifierKey} https://w1.example/
            witness w2 {Cosigner(1).VerifierKey}
            witness w3 {Cosigner(2).VerifierKey}
            group two 2 w1 w2 w3
            group both all two w3
            quorum both
            """;

        Assert.True(TlogPolicy.TryParse(text, out var policy, out var error), error);
        Assert.Equal(new Uri("https://w1.example/"), policy.Witnesses[0].Url);
        Assert.True(policy.IsSatisfiedBy(new HashSet<string> { "w1", "w3" }));
        Assert.False(policy.IsSatisfiedBy(new HashSet<string> { "w1", "w2" }));
        Assert.False(policy.IsSatisfiedBy(new HashSet<string> { "w3" }));
    }

    [Theory]
    [InlineData("quorum none", "no log line")]
    [InlineData("log LOG\nquorum w9", "line 2: quorum names 'w9', which is not defined above")]
    [InlineData("log LOG\nwitness w1 LOG\nquorum w1", "line 2: the witness key is not a cosignature (type 0x04) verifier key")]
    [InlineData("log LOG\ngroup g 1 nobody\nquorum g", "line 2: group member 'nobody' is not defined above")]
    [InlineData("log LOG\nfrobnicate\nquorum none", "line 2: unknown keyword 'frobnicate'")]
    [InlineData("log LOG", "no quorum line")]
    public void Parse_Mistakes_NameTheLine(string text, string expected)
    {
        Assert.False(TlogPolicy.TryParse(text.Replace("LOG", LogVerifier().VerifierKey, StringComparison.Ordinal), out _, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void OpenCheckpoint_NeedsTheLogsSignatureAndAQuorum()
    {
        var policy = Policy(quorum: 2);
        var text = new Checkpoint(Origin, 3, new byte[32]).ToText();
        var logOnly = SignedNote.Sign(text, LogSigner());

        Assert.Null(policy.OpenCheckpoint(logOnly.ToBytes()));
        Assert.Null(policy.OpenCheckpoint(logOnly.AddSignatures(Cosigner(0)).ToBytes()));
        Assert.NotNull(policy.OpenCheckpoint(logOnly.AddSignatures(Cosigner(0), Cosigner(2)).ToBytes()));
        using var forger = Ed25519PrivateKey.Generate(); // a second log key under the same origin, with real cosignatures
        Assert.Null(policy.OpenCheckpoint(SignedNote.Sign(text, new Ed25519NoteSigner(Origin, forger), Cosigner(0), Cosigner(1)).ToBytes()));
    }

    [Fact]
    public void Lookup_UnderAPolicy_WithoutQuorum_IsNoQuorum_AndWithItOk()
    {
        var tree = new InMemoryMerkleTree();
        var leaf = new KeyEvent(KeyEventKinds.ChatDeviceAdded, KeyEvent.ChatSubject(Guid.Empty), 1, [new byte[32], new byte[33]], "session:a", 1).ToBytes();
        tree.Append(leaf);
        var logOnly = SignedNote.Sign(new Checkpoint(Origin, 1, tree.Root()).ToText(), LogSigner());
        KtLookupEntry[] entries = [new(0, leaf, MerkleProof.Inclusion(0, 1, tree))];

        var without = KtLookupVerifier.Verify(Policy(quorum: 2), null, logOnly.ToBytes(), null, KeyEvent.ChatSubject(Guid.Empty), entries);
        var with = KtLookupVerifier.Verify(Policy(quorum: 2), null, logOnly.AddSignatures(Cosigner(1), Cosigner(2)).ToBytes(), null, KeyEvent.ChatSubject(Guid.Empty), entries);

        Assert.Equal(KtVerdict.NoQuorum, without.Verdict);
        Assert.Equal(KtVerdict.Ok, with.Verdict);
        Assert.Single(with.ChatDevices());
    }

    [Fact]
    public void AddCheckpointRequest_RoundTrips_AndRefusesWhatTheSpecForbids()
    {
        var note = SignedNote.Sign(new Checkpoint(Origin, 9, new byte[32]).ToText(), LogSigner()).ToBytes();
        var request = new AddCheckpointRequest(4, [new byte[32], Enumerable.Repeat((byte)7, 32).ToArray()], note);

        var body = request.ToBytes();

        Assert.StartsWith("old 4\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n\nveil.example/kt\n9\n", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
        Assert.True(AddCheckpointRequest.TryParse(body, out var parsed));
        Assert.Equal(4, parsed.OldSize);
        Assert.Equal(request.Proof, parsed.Proof);
        Assert.Equal(note, parsed.CheckpointNote);
        Assert.False(AddCheckpointRequest.TryParse(Encoding.ASCII.GetBytes("old 04\n\n" + Encoding.UTF8.GetString(note)), out _));
        Assert.False(AddCheckpointRequest.TryParse(Encoding.ASCII.GetBytes("old 4\nAAAA\n\n" + Encoding.UTF8.GetString(note)), out _));
        Assert.False(AddCheckpointRequest.TryParse(Encoding.ASCII.GetBytes("old 4\n" + Encoding.UTF8.GetString(note)), out _));
        Assert.False(AddCheckpointRequest.TryParse(Encoding.ASCII.GetBytes("old 4\n" + string.Concat(Enumerable.Repeat("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 64)) + "\n" + Encoding.UTF8.GetString(note)), out _));
    }

    private TlogPolicy Policy(int quorum)
        => TlogPolicy.Threshold(LogVerifier(), [.. Enumerable.Range(0, 3).Select(i => new PolicyWitness("w" + i, CosignatureV1Verifier.Parse(Cosigner(i).VerifierKey)!, null))], quorum);

    private Ed25519NoteSigner LogSigner() => new(Origin, _logKey);

    private Ed25519NoteVerifier LogVerifier() => new(Origin, _logKey.PublicKey);

    private CosignatureV1Signer Cosigner(int i) => new($"witness{i}.example/w", _witnessKeys[i], new FixedClock(At));

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
