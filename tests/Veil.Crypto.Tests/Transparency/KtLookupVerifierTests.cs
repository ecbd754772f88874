using System.Text;
using Veil.Crypto.Primitives;
using Veil.Crypto.Transparency;

namespace Veil.Crypto.Tests.Transparency;

/// <summary>The client's checks of a lookup, against a log built here: rollbacks, forks, bad entries and swapped keys are refused.</summary>
public sealed class KtLookupVerifierTests : IDisposable
{
    private const string Origin = "veil.example/kt";
    private static readonly string Alice = KeyEvent.ChatSubject(Guid.Parse("0a11ce00-0000-4000-8000-000000000001"));
    private readonly Ed25519PrivateKey _logKey = Ed25519PrivateKey.Generate();
    private readonly InMemoryMerkleTree _tree = new();
    private readonly List<byte[]> _leaves = [];

    public void Dispose() => _logKey.Dispose();

    [Fact]
    public void HonestLookup_Verifies_AndReplaysTheDevices()
    {
        Log(new KeyEvent(KeyEventKinds.ChatDeviceAdded, Alice, 1, [Key(1), Key(2)], "session:a", 1));
        Log(Other());
        Log(new KeyEvent(KeyEventKinds.ChatDeviceAdded, Alice, 2, [Key(3), Key(4)], "session:a", 2));
        var first = Checkpoint();
        Log(new KeyEvent(KeyEventKinds.ChatDeviceRemoved, Alice, 1, [], "session:a", 3));

        var result = Verify(first.Checkpoint, MerkleProof.Consistency(first.Checkpoint.Size, _tree.Size, _tree));

        Assert.Equal(KtVerdict.Ok, result.Verdict);
        Assert.Equal(4, result.Checkpoint!.Size);
        Assert.Equal([2], result.ChatDevices().Keys);
        Assert.Equal(Key(3), result.ChatDevices()[2].SigningKey);
    }

    [Fact]
    public void RolledBackCheckpoint_IsRefused()
    {
        Log(new KeyEvent(KeyEventKinds.ChatDeviceAdded, Alice, 1, [Key(1), Key(2)], "session:a", 1));
        var old = Checkpoint();
        Log(Other());
        var later = Checkpoint().Checkpoint;

        var result = KtLookupVerifier.Verify(Verifier(), later, old.Note, null, Alice, Entries(old.Checkpoint.Size));

        Assert.Equal(KtVerdict.RolledBack, result.Verdict);
        Assert.Empty(result.Events);
    }

    [Fact]
    public void ForkedLog_SameSizeOtherRoot_OrNoConsistencyProof_IsRefused()
    {
        Log(new KeyEvent(KeyEventKinds.ChatDeviceAdded, Alice, 1, [Key(1), Key(2)], "session:a", 1));
        var seen = Checkpoint().Checkpoint;

        // The server shows this client a fork: the same size, a tree where Alice has a device of the server's.
        var fork = new InMemoryMerkleTree();
        fork.Append(new KeyEvent(KeyEventKinds.ChatDeviceAdded, Alice, 9, [Key(66), Key(67)], "session:a", 1).ToBytes());
        var forkNote = Sign(new Checkpoint(Origin, fork.Size, fork.Root()));
        Assert.Equal(KtVerdict.Inconsistent, KtLookupVerifier.Verify(Verifier(), seen, forkNote, null, Alice, []).Verdict);

        // Or a larger tree that does not extend the one seen: no consistency proof can verify.
        fork.Append(Other().ToBytes());
        var bigger = Sign(new Checkpoint(Origin, fork.Size, fork.Root()));
        Assert.Equal(KtVerdict.Inconsistent, KtLookupVerifier.Verify(Verifier(), seen, bigger, MerkleProof.Consistency(1, 2, fork), Alice, []).Verdict);
        Assert.Equal(KtVerdict.Inconsistent, KtLookupVerifier.Verify(Verifier(), seen, bigger, null, Alice, []).Verdict);
    }

    [Fact]
    public void CheckpointOfAnotherKeyOrOrigin_IsRefused()
    {
        Log(Other());
        using var other = Ed25519PrivateKey.Generate();
        var note = SignedNote.Sign(new Checkpoint(Origin, _tree.Size, _tree.Root()).ToText(), new Ed25519NoteSigner(Origin, other)).ToBytes();
        var wrongOrigin = SignedNote.Sign(new Checkpoint("elsewhere/kt", _tree.Size, _tree.Root()).ToText(), new Ed25519NoteSigner(Origin, _logKey)).ToBytes();

        Assert.Equal(KtVerdict.BadCheckpoint, KtLookupVerifier.Verify(Verifier(), null, note, null, Alice, []).Verdict);
        Assert.Equal(KtVerdict.BadCheckpoint, KtLookupVerifier.Verify(Verifier(), null, wrongOrigin, null, Alice, []).Verdict);
    }

    [Fact]
    public void EntryWithABadProof_OrOfAnotherSubject_IsRefused()
    {
        Log(new KeyEvent(KeyEventKinds.ChatDeviceAdded, Alice, 1, [Key(1), Key(2)], "session:a", 1));
        Log(Other());
        var current = Checkpoint();
        var entries = Entries(current.Checkpoint.Size);
        var swapped = new KtLookupEntry(0, new KeyEvent(KeyEventKinds.ChatDeviceAdded, Alice, 1, [Key(66), Key(2)], "session:a", 1).ToBytes(), entries[0].Inclusion);

        Assert.Equal(KtVerdict.BadEntry, KtLookupVerifier.Verify(Verifier(), null, current.Note, null, Alice, [swapped]).Verdict);
        Assert.Equal(KtVerdict.BadEntry, KtLookupVerifier.Verify(Verifier(), null, current.Note, null, Alice, [AllEntries()[1]]).Verdict);
    }

    [Fact]
    public void MailKeySwappedByTheServer_IsNotAmongTheLoggedKeys_SoTheSenderRefusesIt()
    {
        var bob = KeyEvent.MailSubject("bob@mail.example");
        var bobsKey = Convert.FromHexString("0123456789ABCDEF0123456789ABCDEF01234567");
        Log(new KeyEvent(KeyEventKinds.MailKeyAdded, bob, null, [bobsKey], "session:b", 1));
        var current = Checkpoint();

        var result = KtLookupVerifier.Verify(Verifier(), null, current.Note, null, bob, AllEntries());
        var servedByALyingServer = "FEDCBA9876543210FEDCBA9876543210FEDCBA98";

        Assert.Equal(KtVerdict.Ok, result.Verdict);
        Assert.Contains(Convert.ToHexString(bobsKey), result.MailFingerprints());
        Assert.DoesNotContain(servedByALyingServer, result.MailFingerprints());
    }

    [Fact]
    public void PendingEntries_AreCountedButNotTrusted()
    {
        Log(new KeyEvent(KeyEventKinds.ChatDeviceAdded, Alice, 1, [Key(1), Key(2)], "session:a", 1));
        var current = Checkpoint();
        var pending = new KtLookupEntry(null, new KeyEvent(KeyEventKinds.ChatDeviceAdded, Alice, 2, [Key(5), Key(6)], "session:a", 2).ToBytes(), []);

        var result = KtLookupVerifier.Verify(Verifier(), null, current.Note, null, Alice, [.. AllEntries(), pending]);

        Assert.Equal(KtVerdict.Ok, result.Verdict);
        Assert.Equal(1, result.Pending);
        Assert.Equal([1], result.ChatDevices().Keys);
    }

    private KtVerification Verify(Checkpoint lastSeen, byte[][] consistency)
        => KtLookupVerifier.Verify(Verifier(), lastSeen, Checkpoint().Note, consistency, Alice, Entries(_tree.Size));

    private List<KtLookupEntry> Entries(long size)
        => [.. _leaves.Take((int)size).Select((leaf, i) => (leaf, i)).Where(x => KeyEvent.TryParse(x.leaf)!.Subject == Alice)
            .Select(x => new KtLookupEntry(x.i, x.leaf, MerkleProof.Inclusion(x.i, size, _tree)))];

    private List<KtLookupEntry> AllEntries()
        => [.. _leaves.Select((leaf, i) => new KtLookupEntry(i, leaf, MerkleProof.Inclusion(i, _tree.Size, _tree)))];

    private void Log(KeyEvent keyEvent)
    {
        var leaf = keyEvent.ToBytes();
        _leaves.Add(leaf);
        _tree.Append(leaf);
    }

    private (Checkpoint Checkpoint, byte[] Note) Checkpoint()
    {
        var checkpoint = new Checkpoint(Origin, _tree.Size, _tree.Root());
        return (checkpoint, Sign(checkpoint));
    }

    private byte[] Sign(Checkpoint checkpoint) => SignedNote.Sign(checkpoint.ToText(), new Ed25519NoteSigner(Origin, _logKey)).ToBytes();

    private Ed25519NoteVerifier Verifier() => new(Origin, _logKey.PublicKey);

    private static KeyEvent Other() => new(KeyEventKinds.ChatAccountKey, KeyEvent.ChatSubject(Guid.NewGuid()), null, [new byte[32]], "session:x", 1);

    private static byte[] Key(byte b) => Enumerable.Repeat(b, 32).ToArray();
}
