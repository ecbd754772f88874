// `veil witness serve` over real HTTP (Kestrel on loopback): every add-checkpoint answer of c2sp.org/tlog-witness,
// the compare-and-swap under concurrent submissions, state kept across a restart, and cosignatures that an
// independent Ed25519 (pyca/cryptography) verifies.
using System.Net;
using System.Text;
using Veil.Crypto.Transparency;
using Veil.Server.Witness;

namespace Veil.Server.Tests.Transparency;

public sealed class WitnessTests : IAsyncLifetime, IDisposable
{
    private readonly string _directory = WitnessKit.NewDirectory();
    private readonly TestLog _log = new();
    private readonly HttpClient _http = new();
    private WitnessServer _witness = null!;

    public async Task InitializeAsync() => _witness = await WitnessKit.StartWitnessAsync(_directory, null, _log.VerifierKey);

    public async Task DisposeAsync()
    {
        await _witness.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    public void Dispose()
    {
        _http.Dispose();
        _log.Dispose();
    }

    [Fact]
    public async Task AddCheckpoint_FromZero_AnswersACosignatureLineThatVerifies()
    {
        var reply = await _http.AddCheckpointAsync(_witness.Address, _log.Grow(5).From(0));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.StartsWith("\u2014 ", reply.Body, StringComparison.Ordinal);
        Assert.EndsWith("\n", reply.Body, StringComparison.Ordinal);
        var cosigned = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(_log.Checkpoint()) + reply.Body);
        Assert.NotNull(SignedNote.Open(cosigned, [CosignatureV1Verifier.Parse(_witness.VerifierKey)!]));
    }

    [Fact]
    public async Task Cosignature_VerifiesWithPyca()
    {
        var checkpoint = Encoding.UTF8.GetString(_log.Grow(3).Checkpoint());
        var reply = await _http.AddCheckpointAsync(_witness.Address, _log.From(0));
        Assert.True(SignedNote.TryParseVerifierKey(_witness.VerifierKey, out _, out var type, out var publicKey));

        var verdict = WitnessKit.Python("""
            import sys, base64
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
            pub, blob, text = bytes.fromhex(sys.argv[1]), base64.b64decode(sys.argv[2]), sys.argv[3].encode()
            ts = int.from_bytes(blob[4:12], 'big')
            Ed25519PublicKey.from_public_bytes(pub).verify(blob[12:], b'cosignature/v1\ntime ' + str(ts).encode() + b'\n' + text)
            print('ok')
            """, Convert.ToHexStringLower(publicKey), reply.Body.Trim().Split(' ')[^1], checkpoint[..(checkpoint.IndexOf("\n\n", StringComparison.Ordinal) + 1)]);

        Assert.Equal(NoteSignatureType.CosignatureV1, type);
        Assert.Equal("ok", verdict);
    }

    [Fact]
    public async Task AddCheckpoint_UnknownLog_Is404()
    {
        using var stranger = new TestLog("stranger.example/kt");

        var reply = await _http.AddCheckpointAsync(_witness.Address, stranger.Grow(2).From(0));

        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
    }

    [Fact]
    public async Task AddCheckpoint_SignedByAnotherKeyUnderTheLogsName_Is403()
    {
        using var impostor = new TestLog(_log.Origin);

        var reply = await _http.AddCheckpointAsync(_witness.Address, impostor.Grow(2).From(0));

        Assert.Equal(HttpStatusCode.Forbidden, reply.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync(new Uri(_witness.Address, "/checkpoint?origin=" + Uri.EscapeDataString(_log.Origin)))).StatusCode);
    }

    [Fact]
    public async Task AddCheckpoint_WithABrokenLogSignature_Is403()
    {
        var request = _log.Grow(2).From(0);
        var note = request.CheckpointNote.ToArray();
        note[^10] = (byte)(note[^10] == (byte)'A' ? 'B' : 'A'); // inside the base64 of the signature

        var reply = await _http.AddCheckpointAsync(_witness.Address, new AddCheckpointRequest(0, [], note));

        Assert.Equal(HttpStatusCode.Forbidden, reply.Status);
    }

    [Fact]
    public async Task AddCheckpoint_FromAStaleSize_Is409WithTheWitnessSize()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.AddCheckpointAsync(_witness.Address, _log.Grow(7).From(0))).Status);

        var reply = await _http.AddCheckpointAsync(_witness.Address, _log.Grow(3).From(4));

        Assert.Equal(HttpStatusCode.Conflict, reply.Status);
        Assert.Equal(AddCheckpointRequest.SizeMediaType, reply.ContentType);
        Assert.Equal("7\n", reply.Body);
        Assert.Equal(HttpStatusCode.OK, (await _http.AddCheckpointAsync(_witness.Address, _log.From(7))).Status);
    }

    [Fact]
    public async Task AddCheckpoint_WithABadConsistencyProof_Is422_AndKeepsTheOldState()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.AddCheckpointAsync(_witness.Address, _log.Grow(5).From(0))).Status);
        var good = _log.Grow(6).From(5);
        var proof = good.Proof.Select(h => (byte[])h.Clone()).ToList();
        proof[0][0] ^= 1;

        var reply = await _http.AddCheckpointAsync(_witness.Address, new AddCheckpointRequest(5, proof, good.CheckpointNote));

        Assert.Equal((HttpStatusCode)422, reply.Status);
        Assert.Equal(HttpStatusCode.OK, (await _http.AddCheckpointAsync(_witness.Address, good)).Status); // still held at 5
    }

    [Fact]
    public async Task AddCheckpoint_ForkAtTheSameSize_Is409()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.AddCheckpointAsync(_witness.Address, _log.Grow(4).From(0))).Status);
        var otherRoot = _log.Root();
        otherRoot[0] ^= 1; // the log's key signs a second tree of the same size: a split view

        var reply = await _http.AddCheckpointAsync(_witness.Address, new AddCheckpointRequest(4, [], _log.Sign(new Checkpoint(_log.Origin, 4, otherRoot))));

        Assert.Equal(HttpStatusCode.Conflict, reply.Status);
    }

    [Fact]
    public async Task AddCheckpoint_OldSizeAboveTheCheckpoint_Is400()
    {
        var reply = await _http.AddCheckpointAsync(_witness.Address, new AddCheckpointRequest(9, [], _log.Grow(3).Checkpoint()));

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
    }

    [Fact]
    public async Task AddCheckpoint_Malformed_Is400()
    {
        var reply = await _http.AddCheckpointAsync(_witness.Address, Encoding.ASCII.GetBytes("old 01\n\n" + Encoding.UTF8.GetString(_log.Grow(1).Checkpoint())));

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
    }

    [Fact]
    public async Task ConcurrentSubmissionsFromTheSameOldSize_ExactlyOneWins()
    {
        var requests = new List<AddCheckpointRequest>();
        for (var i = 0; i < 8; i++)
        {
            requests.Add(_log.Grow(1).From(0));
        }

        var replies = await Task.WhenAll(requests.Select(r => _http.AddCheckpointAsync(_witness.Address, r)));

        Assert.Single(replies, r => r.Status == HttpStatusCode.OK);
        Assert.Equal(7, replies.Count(r => r.Status == HttpStatusCode.Conflict));
        var winner = requests[Array.FindIndex(replies, r => r.Status == HttpStatusCode.OK)];
        Assert.All(replies.Where(r => r.Status == HttpStatusCode.Conflict), r => Assert.Equal(Size(winner) + "\n", r.Body));
    }

    [Fact]
    public async Task Restart_KeepsTheKeyAndTheLatestCheckpoint()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.AddCheckpointAsync(_witness.Address, _log.Grow(6).From(0))).Status);
        var vkey = _witness.VerifierKey;
        await _witness.DisposeAsync();

        _witness = await WitnessKit.StartWitnessAsync(_directory, null, _log.VerifierKey);
        var reply = await _http.AddCheckpointAsync(_witness.Address, _log.Grow(2).From(0));

        Assert.Equal(vkey, _witness.VerifierKey);
        Assert.Equal(HttpStatusCode.Conflict, reply.Status);
        Assert.Equal("6\n", reply.Body);
        Assert.Equal(HttpStatusCode.OK, (await _http.AddCheckpointAsync(_witness.Address, _log.From(6))).Status);
    }

    [Fact]
    public async Task MonitoringGet_ServesTheLatestCosignedCheckpoint_WithBothSignatures()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.AddCheckpointAsync(_witness.Address, _log.Grow(3).From(0))).Status);

        var bytes = await _http.GetByteArrayAsync(new Uri(_witness.Address, "/checkpoint?origin=" + Uri.EscapeDataString(_log.Origin)));

        Assert.True(SignedNote.TryParse(bytes, out var note));
        Assert.NotNull(note.Verify([_log.Verifier]));
        Assert.NotNull(note.Verify([CosignatureV1Verifier.Parse(_witness.VerifierKey)!]));
        Assert.True(Checkpoint.TryParse(note.Text, out var checkpoint));
        Assert.Equal(3, checkpoint.Size);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void WitnessKey_IsReadableByItsOwnerOnly()
    {
        var mode = File.GetUnixFileMode(Path.Combine(_directory, "witness.key"));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        Assert.Equal(32, new FileInfo(Path.Combine(_directory, "witness.key")).Length);
    }

    private static string Size(AddCheckpointRequest request)
    {
        Assert.True(SignedNote.TryParse(request.CheckpointNote, out var note));
        Assert.True(Checkpoint.TryParse(note.Text, out var checkpoint));
        return checkpoint.Size.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
