// What a client does with the transparency part of a key lookup (spec/kt.md §6), before using any key from it:
//   1. open the checkpoint with the pinned log key (and its origin);
//   2. refuse a checkpoint smaller than the last one it stored (a rollback), or of the same size with another root,
//      or larger without a consistency proof from the stored one that verifies (a fork);
//   3. keep only entries of the looked-up subject whose inclusion proof verifies under the new checkpoint;
//   4. replay them: the keys the subject currently has are those added and not removed since.
// The caller stores the new checkpoint only after a successful verification, and uses a served key only if the
// replay contains it. With a TlogPolicy (the pinned log key plus witness keys and a quorum), step 1 also demands
// that a quorum of the policy's witnesses cosigned the checkpoint (NoQuorum otherwise).
namespace Veil.Crypto.Transparency;

/// <summary>The outcome of verifying a lookup.</summary>
public enum KtVerdict
{
    /// <summary>The checkpoint verifies and is consistent with the last one seen; the proven events are in the result.</summary>
    Ok,

    /// <summary>The checkpoint is not signed by the pinned log key, or is not a checkpoint of the pinned origin.</summary>
    BadCheckpoint,

    /// <summary>The checkpoint is older (smaller) than the last one seen.</summary>
    RolledBack,

    /// <summary>The checkpoint does not extend the last one seen (same size, other root; or no valid consistency proof).</summary>
    Inconsistent,

    /// <summary>An entry claims an index but its inclusion proof does not verify, or it is not a key event of the subject.</summary>
    BadEntry,

    /// <summary>The checkpoint is the log's but not cosigned by a quorum of the policy's witnesses (a split view is possible).</summary>
    NoQuorum,
}

/// <summary>One entry of a lookup: its index (null while pending), its leaf and its inclusion proof.</summary>
public sealed record KtLookupEntry(long? Index, byte[] Leaf, IReadOnlyList<byte[]> Inclusion);

/// <summary>The verified result: the verdict, the checkpoint to store, the proven events and the count of pending ones.</summary>
public sealed record KtVerification(KtVerdict Verdict, Checkpoint? Checkpoint, IReadOnlyList<KeyEvent> Events, int Pending)
{
    /// <summary>The chat devices the proven events leave in place: device id → (signing key, identity key).</summary>
    public IReadOnlyDictionary<int, (byte[] SigningKey, byte[] IdentityKey)> ChatDevices()
    {
        var devices = new Dictionary<int, (byte[], byte[])>();
        foreach (var e in Events)
        {
            if (e.Kind == KeyEventKinds.ChatDeviceAdded && e.Device is { } added && e.Keys.Count == 2)
            {
                devices[added] = (e.Keys[0], e.Keys[1]);
            }
            else if (e.Kind == KeyEventKinds.ChatDeviceRemoved && e.Device is { } removed)
            {
                devices.Remove(removed);
            }
        }

        return devices;
    }

    /// <summary>The mail key fingerprints the proven events leave in place.</summary>
    public IReadOnlySet<string> MailFingerprints()
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in Events.Where(e => e.Keys.Count == 1))
        {
            var fingerprint = Convert.ToHexString(e.Keys[0]);
            if (e.Kind == KeyEventKinds.MailKeyAdded)
            {
                keys.Add(fingerprint);
            }
            else if (e.Kind == KeyEventKinds.MailKeyRevoked)
            {
                keys.Remove(fingerprint);
            }
        }

        return keys;
    }
}

/// <summary>Verifies the transparency part of a key lookup against a pinned log key and the last checkpoint seen.</summary>
public static class KtLookupVerifier
{
    /// <summary>
    /// Verifies under a witness policy: the checkpoint must be signed by the policy's (single) log key and cosigned by a
    /// quorum of its witnesses, then every check of the other overload applies. Never throws on bad input.
    /// </summary>
    public static KtVerification Verify(
        TlogPolicy policy, Checkpoint? lastSeen, ReadOnlySpan<byte> checkpointNote, IReadOnlyList<byte[]>? consistency,
        string subject, IEnumerable<KtLookupEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Logs.Count != 1)
        {
            throw new ArgumentException("A lookup is verified against a policy of exactly one log.", nameof(policy));
        }

        var verdict = Verify(policy.Logs[0], lastSeen, checkpointNote, consistency, subject, entries);
        return verdict.Verdict == KtVerdict.Ok && policy.OpenCheckpoint(checkpointNote) is null
            ? new KtVerification(KtVerdict.NoQuorum, null, [], 0)
            : verdict;
    }

    /// <summary>Verifies; never throws on bad input, returns the verdict.</summary>
    public static KtVerification Verify(
        Ed25519NoteVerifier logKey, Checkpoint? lastSeen, ReadOnlySpan<byte> checkpointNote, IReadOnlyList<byte[]>? consistency,
        string subject, IEnumerable<KtLookupEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(logKey);
        ArgumentNullException.ThrowIfNull(entries);
        if (SignedNote.Open(checkpointNote, [logKey]) is not { } note || !Checkpoint.TryParse(note.Text, out var checkpoint)
            || checkpoint.Origin != logKey.Name)
        {
            return new KtVerification(KtVerdict.BadCheckpoint, null, [], 0);
        }

        if (lastSeen is not null)
        {
            if (checkpoint.Size < lastSeen.Size)
            {
                return new KtVerification(KtVerdict.RolledBack, null, [], 0);
            }

            var consistent = checkpoint.Size == lastSeen.Size
                ? checkpoint.RootHash.AsSpan().SequenceEqual(lastSeen.RootHash)
                : consistency is not null && MerkleProof.VerifyConsistency(lastSeen.Size, checkpoint.Size, consistency, lastSeen.RootHash, checkpoint.RootHash);
            if (!consistent)
            {
                return new KtVerification(KtVerdict.Inconsistent, null, [], 0);
            }
        }

        var events = new List<(long Index, KeyEvent Event)>();
        var pending = 0;
        foreach (var entry in entries)
        {
            if (entry.Index is not { } index)
            {
                pending++;
                continue;
            }

            if (KeyEvent.TryParse(entry.Leaf) is not { } keyEvent || keyEvent.Subject != subject
                || !MerkleProof.VerifyInclusion(index, checkpoint.Size, MerkleHasher.HashLeaf(entry.Leaf), entry.Inclusion, checkpoint.RootHash))
            {
                return new KtVerification(KtVerdict.BadEntry, null, [], 0);
            }

            events.Add((index, keyEvent));
        }

        return new KtVerification(KtVerdict.Ok, checkpoint, [.. events.OrderBy(e => e.Index).Select(e => e.Event)], pending);
    }
}
