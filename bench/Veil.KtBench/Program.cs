// Client-side key transparency verification at 1,000,000 leaves, as a client runs it for one key lookup:
// open the signed checkpoint (one Ed25519 verify), parse it, verify the consistency proof from the client's
// last checkpoint (999,000 leaves) and the inclusion proof of one leaf. Measured in the same run against a
// floor of 64 SHA-256 compressions of a node (65 bytes) and one Ed25519 verify.
// Prints {"leaves","inclusion_hashes","consistency_hashes","verify_us","floor_us","ratio"}; medians of 7 rounds.
// Usage: Veil.KtBench [iterations per round, default 2000]
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Primitives;
using Veil.Crypto.Transparency;

const long Size = 1_000_000;
const long OldSize = 999_000;
var iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;

var tree = new LevelTree();
var frontier = new MerkleFrontier();
Span<byte> leaf = stackalloc byte[8];
for (long i = 0; i < Size; i++)
{
    BitConverter.TryWriteBytes(leaf, i);
    frontier.Append(MerkleHasher.HashLeaf(leaf), tree.Store);
}

using var logKey = Ed25519PrivateKey.Generate();
var signer = new Ed25519NoteSigner("veil.example/kt", logKey);
var verifier = new Ed25519NoteVerifier("veil.example/kt", logKey.PublicKey);
var note = SignedNote.Sign(new Checkpoint("veil.example/kt", Size, frontier.Root()).ToText(), signer).ToBytes();
var oldRoot = MerkleProof.Root(OldSize, tree);
const long Index = 654_321;
BitConverter.TryWriteBytes(leaf, Index);
var leafHash = MerkleHasher.HashLeaf(leaf);
var inclusion = MerkleProof.Inclusion(Index, Size, tree);
var consistency = MerkleProof.Consistency(OldSize, Size, tree);

bool VerifyOnce()
{
    var opened = SignedNote.Open(note, [verifier]);
    return opened is not null
           && Checkpoint.TryParse(opened.Text, out var checkpoint)
           && MerkleProof.VerifyConsistency(OldSize, checkpoint.Size, consistency, oldRoot, checkpoint.RootHash)
           && MerkleProof.VerifyInclusion(Index, checkpoint.Size, leafHash, inclusion, checkpoint.RootHash);
}

var block = new byte[65];
var digest = new byte[32];
var message = Encoding.UTF8.GetBytes(SignedNote.TryParse(note, out var parsed) ? parsed.Text : throw new InvalidOperationException());
var signature = parsed.Signatures[0].Signature;
bool FloorOnce()
{
    for (var i = 0; i < 64; i++)
    {
        SHA256.HashData(block, digest);
        block[1] = digest[0];
    }

    return logKey.PublicKey.Verify(message, signature);
}

if (!VerifyOnce() || !FloorOnce())
{
    throw new InvalidOperationException("verification failed");
}

var verifyRounds = new List<double>();
var floorRounds = new List<double>();
for (var round = 0; round < 7; round++)
{
    verifyRounds.Add(Time(VerifyOnce, iterations));
    floorRounds.Add(Time(FloorOnce, iterations));
}

var verifyUs = Median(verifyRounds);
var floorUs = Median(floorRounds);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{{\"leaves\":{Size},\"inclusion_hashes\":{inclusion.Length},\"consistency_hashes\":{consistency.Length},\"verify_us\":{verifyUs:F1},\"floor_us\":{floorUs:F1},\"ratio\":{verifyUs / floorUs:F2}}}"));

static double Time(Func<bool> action, int n)
{
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < n; i++)
    {
        if (!action())
        {
            throw new InvalidOperationException("verification failed");
        }
    }

    return clock.Elapsed.TotalMicroseconds / n;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}

/// <summary>Complete subtrees in one flat array per level (64 MiB for a million leaves).</summary>
internal sealed class LevelTree : IMerkleNodeSource
{
    private readonly List<List<byte[]>> _levels = [];

    public void Store(MerkleNodeId id, byte[] hash)
    {
        while (_levels.Count <= id.Level)
        {
            _levels.Add([]);
        }

        if (_levels[id.Level].Count != id.Index)
        {
            throw new InvalidOperationException("nodes arrive in order");
        }

        _levels[id.Level].Add(hash);
    }

    public void ReadNode(MerkleNodeId node, Span<byte> destination) => _levels[node.Level][(int)node.Index].CopyTo(destination);
}
