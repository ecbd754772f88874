// Double Ratchet sessions in Signal's v3 construction (spec/chat-wire.md §4, §6).
//
// A SessionRecord holds the current SessionState and up to 40 archived ones (newest first), as libsignal
// does: a new X3DH archives the current state, and a message that only an archived state can decrypt
// promotes that state back to current (this is what makes simultaneous initiation converge).
// A SessionState is one ratchet: the root key, one sending chain (our ratchet key pair, its chain key and
// index) and up to 5 receiving chains (newest last; the oldest is dropped), each with up to 2,000 stored
// skipped message-key seeds (the oldest evicted first). A message more than 25,000 ahead of its chain is
// refused before any key is derived. Decryption computes every change on the side and applies it only
// after the MAC and the padding checked out, so a bad or replayed message never changes a session.
//
// Chain keys and root keys are held as managed byte[] because the record must be serialised into the
// client's encrypted store anyway; ratchet private keys stay in secure memory (X25519PrivateKey).
using System.Security.Cryptography;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Chat;

/// <summary>libsignal's session limits, kept identical.</summary>
public static class ChatSessionLimits
{
    /// <summary>The largest counter jump accepted within one chain: 25,000.</summary>
    public const int MaxForwardJumps = 25_000;

    /// <summary>Skipped message keys kept per receiving chain: 2,000 (oldest evicted).</summary>
    public const int MaxMessageKeys = 2_000;

    /// <summary>Receiving chains kept per session: 5 (oldest dropped).</summary>
    public const int MaxReceiverChains = 5;

    /// <summary>Archived session states kept per record: 40 (oldest dropped).</summary>
    public const int MaxArchivedStates = 40;
}

internal sealed class ReceiverChain(X25519PublicKey ratchetKey, byte[] chainKey)
{
    internal X25519PublicKey RatchetKey { get; } = ratchetKey;

    internal byte[] ChainKey { get; set; } = chainKey;

    internal uint Index { get; set; }

    /// <summary>Seeds of skipped message keys, oldest first.</summary>
    internal List<(uint Index, byte[] Seed)> Skipped { get; } = [];
}

/// <summary>What the initiator repeats in every message until the responder first answers.</summary>
internal sealed record PendingPreKey(uint? PreKeyId, uint SignedPreKeyId, X25519PublicKey BaseKey);

/// <summary>One Double Ratchet session with one remote device.</summary>
public sealed class SessionState : IDisposable
{
    internal SessionState(
        X25519PublicKey localIdentity, X25519PublicKey remoteIdentity, uint localRegistrationId, uint remoteRegistrationId,
        X25519PublicKey aliceBaseKey, byte[] rootKey, X25519PrivateKey senderRatchet, byte[] senderChainKey)
    {
        LocalIdentity = ChatPublicKey.Serialize(localIdentity);
        RemoteIdentityKey = remoteIdentity;
        RemoteIdentity = ChatPublicKey.Serialize(remoteIdentity);
        LocalRegistrationId = localRegistrationId;
        RemoteRegistrationId = remoteRegistrationId;
        AliceBaseKey = aliceBaseKey;
        RootKey = rootKey;
        SenderRatchet = senderRatchet;
        SenderChainKey = senderChainKey;
    }

    /// <summary>The remote device's X25519 identity key.</summary>
    public X25519PublicKey RemoteIdentityKey { get; }

    /// <summary>The remote device's registration id.</summary>
    public uint RemoteRegistrationId { get; }

    /// <summary>The index the next sent message will carry.</summary>
    public uint SenderIndex { get; internal set; }

    /// <summary>How many receiving chains this session holds (at most 5).</summary>
    public int ReceiverChainCount => ReceiverChains.Count;

    /// <summary>How many skipped message keys are stored across its receiving chains.</summary>
    public int StoredSkippedKeys => ReceiverChains.Sum(c => c.Skipped.Count);

    /// <summary>Whether this session still sends PreKeySignalMessages (the responder has not answered yet).</summary>
    public bool HasPendingPreKey => Pending is not null;

    internal byte[] LocalIdentity { get; }

    internal byte[] RemoteIdentity { get; }

    internal uint LocalRegistrationId { get; }

    /// <summary>The initiator's base key: identifies the X3DH this session came from.</summary>
    internal X25519PublicKey AliceBaseKey { get; }

    internal byte[] RootKey { get; set; }

    internal X25519PrivateKey SenderRatchet { get; set; }

    internal byte[] SenderChainKey { get; set; }

    internal uint PreviousCounter { get; set; }

    internal PendingPreKey? Pending { get; set; }

    internal List<ReceiverChain> ReceiverChains { get; } = [];

    internal ReceiverChain? FindReceiverChain(X25519PublicKey ratchetKey) =>
        ReceiverChains.Find(c => c.RatchetKey.Equals(ratchetKey));

    internal void AddReceiverChain(ReceiverChain chain)
    {
        ReceiverChains.Add(chain);
        if (ReceiverChains.Count > ChatSessionLimits.MaxReceiverChains)
        {
            ReceiverChains.RemoveAt(0);
        }
    }

    /// <summary>Wipes the ratchet private key and the chain keys.</summary>
    public void Dispose()
    {
        SenderRatchet.Dispose();
        CryptographicOperations.ZeroMemory(RootKey);
        CryptographicOperations.ZeroMemory(SenderChainKey);
        foreach (var chain in ReceiverChains)
        {
            CryptographicOperations.ZeroMemory(chain.ChainKey);
            chain.Skipped.ForEach(s => CryptographicOperations.ZeroMemory(s.Seed));
        }
    }

    /// <summary>Names the type and the remote identity's fingerprint only.</summary>
    public override string ToString() => $"SessionState(remote {RemoteIdentityKey.Fingerprint}, sent {SenderIndex})";
}

/// <summary>All sessions with one remote device: the current one and up to 40 archived ones, newest first.</summary>
public sealed class SessionRecord : IDisposable
{
    private readonly List<SessionState> _archived = [];

    /// <summary>The session used for sending, if any.</summary>
    public SessionState? Current { get; private set; }

    /// <summary>Archived sessions, newest first (at most 40).</summary>
    public IReadOnlyList<SessionState> Archived => _archived;

    /// <summary>Makes <paramref name="state"/> current, archiving the previous current session.</summary>
    internal void Install(SessionState state)
    {
        if (Current is not null)
        {
            _archived.Insert(0, Current);
            if (_archived.Count > ChatSessionLimits.MaxArchivedStates)
            {
                _archived[^1].Dispose();
                _archived.RemoveAt(_archived.Count - 1);
            }
        }

        Current = state;
    }

    /// <summary>Makes the archived state at <paramref name="index"/> current again.</summary>
    internal void Promote(int index)
    {
        var state = _archived[index];
        _archived.RemoveAt(index);
        Install(state);
    }

    /// <summary>The index among all states (0 = current, 1.. = archived) of the one made from <paramref name="baseKey"/>, or -1.</summary>
    internal int IndexOfBaseKey(X25519PublicKey baseKey)
    {
        if (Current?.AliceBaseKey.Equals(baseKey) == true)
        {
            return 0;
        }

        var i = _archived.FindIndex(s => s.AliceBaseKey.Equals(baseKey));
        return i < 0 ? -1 : i + 1;
    }

    internal IEnumerable<SessionState> All()
    {
        if (Current is not null)
        {
            yield return Current;
        }

        foreach (var state in _archived)
        {
            yield return state;
        }
    }

    /// <summary>Wipes every session.</summary>
    public void Dispose()
    {
        Current?.Dispose();
        _archived.ForEach(s => s.Dispose());
        _archived.Clear();
        Current = null;
    }
}

/// <summary>Signal's transport padding: plaintexts grow to 160·k − 1 bytes so ciphertexts are multiples of 160.</summary>
public static class ChatPadding
{
    /// <summary>The padding block: 160 bytes.</summary>
    public const int Block = 160;

    /// <summary>Appends 0x80 then zeros, to ceil((n + 2) / 160) · 160 − 1 bytes (AES-CBC's PKCS#7 adds the last byte).</summary>
    public static byte[] Pad(ReadOnlySpan<byte> message)
    {
        var padded = new byte[((message.Length + 2 + Block - 1) / Block * Block) - 1];
        message.CopyTo(padded);
        padded[message.Length] = 0x80;
        return padded;
    }

    /// <summary>Strips the padding; <see langword="null"/> unless it ends in 0x80 followed only by zeros.</summary>
    public static byte[]? TryUnpad(ReadOnlySpan<byte> padded)
    {
        var end = padded.LastIndexOfAnyExcept((byte)0);
        return end >= 0 && padded[end] == 0x80 ? padded[..end].ToArray() : null;
    }
}
