// POST /add-checkpoint (c2sp.org/tlog-witness): the witness cosigns a log's checkpoint only if the log's key
// signed it and it extends — by a verifying RFC 6962 consistency proof — the latest checkpoint this witness
// cosigned for that log. The answers, in the order the spec checks them:
//   400  the body is malformed, or the old size is larger than the checkpoint's
//   404  the origin is not a log this witness was configured with
//   403  no valid signature of the log's key (or a signature of its key that fails)
//   409  the old size is not the size this witness holds (the body says which, as text/x.tlog.size), or the same
//        size with another root (a fork: the log signed two trees of one size)
//   422  the consistency proof does not verify
//   200  the cosignature line(s), after the new checkpoint was stored
// The check and the store happen under the store's lock: two submissions from one old size, one wins.
using System.Globalization;
using Microsoft.Extensions.Logging;
using Veil.Crypto.Transparency;

namespace Veil.Server.Witness;

internal sealed record WitnessAnswer(int Status, string ContentType, string Body);

internal sealed partial class AddCheckpoint(WitnessStore store, IReadOnlyDictionary<string, Ed25519NoteVerifier> logs, TimeProvider time, ILogger<AddCheckpoint> logger)
{
    private const string Text = "text/plain; charset=utf-8";

    public async Task<WitnessAnswer> ExecuteAsync(byte[] body, CancellationToken cancellationToken)
    {
        if (!AddCheckpointRequest.TryParse(body, out var request) || !SignedNote.TryParse(request.CheckpointNote, out var note)
            || !Checkpoint.TryParse(note.Text, out var checkpoint))
        {
            return new WitnessAnswer(400, Text, "malformed add-checkpoint request\n");
        }

        if (!logs.TryGetValue(checkpoint.Origin, out var logKey))
        {
            return new WitnessAnswer(404, Text, "unknown log\n");
        }

        // Only the log's own signature counts; other lines (other witnesses' cosignatures) are ignored and not kept.
        if (note.Verify([logKey]) is null)
        {
            return new WitnessAnswer(403, Text, "the checkpoint is not signed by the log's key\n");
        }

        if (request.OldSize > checkpoint.Size)
        {
            return new WitnessAnswer(400, Text, "the old size is larger than the checkpoint's\n");
        }

        var logSigned = note.Where(s => s.Name == logKey.Name && s.KeyId == logKey.KeyId);
        await store.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (heldSize, heldRoot) = Held(checkpoint.Origin, logKey);
            if (request.OldSize != heldSize)
            {
                return new WitnessAnswer(409, AddCheckpointRequest.SizeMediaType, heldSize.ToString(CultureInfo.InvariantCulture) + "\n");
            }

            if (checkpoint.Size == heldSize)
            {
                if (!checkpoint.RootHash.AsSpan().SequenceEqual(heldRoot) || request.Proof.Count != 0)
                {
                    LogFork(logger, checkpoint.Origin, checkpoint.Size);
                    return new WitnessAnswer(409, AddCheckpointRequest.SizeMediaType, heldSize.ToString(CultureInfo.InvariantCulture) + "\n");
                }
            }
            else if (!MerkleProof.VerifyConsistency(heldSize, checkpoint.Size, request.Proof, heldRoot, checkpoint.RootHash))
            {
                LogBadProof(logger, checkpoint.Origin, heldSize, checkpoint.Size);
                return new WitnessAnswer(422, Text, "the consistency proof does not verify\n");
            }

            var cosigned = logSigned.AddSignatures(new CosignatureV1Signer(store.Name, store.Key, time));
            store.Write(checkpoint.Origin, cosigned.ToBytes());
            LogCosigned(logger, checkpoint.Origin, checkpoint.Size);
            return new WitnessAnswer(200, Text, cosigned.Signatures[^1].ToLine() + "\n");
        }
        finally
        {
            store.Lock.Release();
        }
    }

    /// <summary>The size and root this witness last cosigned for the log; zero and the empty root when it never did.</summary>
    private (long Size, byte[] Root) Held(string origin, Ed25519NoteVerifier logKey)
    {
        if (store.Read(origin) is not { } stored)
        {
            return (0, MerkleHasher.EmptyRoot());
        }

        // The stored note was verified before it was written; a file that no longer parses is a broken disk, not a request.
        if (SignedNote.Open(stored, [logKey]) is not { } note || !Checkpoint.TryParse(note.Text, out var held))
        {
            throw new InvalidDataException("The witness's stored checkpoint for a log does not verify; refusing to cosign.");
        }

        return (held.Size, held.RootHash);
    }

    [LoggerMessage(EventId = 3900, Level = LogLevel.Information, Message = "Witness: cosigned {Origin} at size {Size}")]
    private static partial void LogCosigned(ILogger logger, string origin, long size);

    [LoggerMessage(EventId = 3901, Level = LogLevel.Warning, Message = "Witness: {Origin} offered another root for size {Size} than the one cosigned (a fork)")]
    private static partial void LogFork(ILogger logger, string origin, long size);

    [LoggerMessage(EventId = 3902, Level = LogLevel.Warning, Message = "Witness: {Origin} offered a consistency proof from {From} to {To} that does not verify")]
    private static partial void LogBadProof(ILogger logger, string origin, long from, long to);
}
