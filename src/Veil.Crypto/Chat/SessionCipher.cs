// Starting sessions (X3DH) and encrypting/decrypting Double Ratchet messages (spec/chat-wire.md §3–6).
//
// Encryption: seed = HMAC(ck, 0x01), ck' = HMAC(ck, 0x02); (aes key, mac key, iv) = HKDF(seed,
// "WhisperMessageKeys", 80); ciphertext = AES-256-CBC/PKCS#7(Signal-padded plaintext); the SignalMessage MAC
// covers the sender's and receiver's identities and the header. Until the responder answers, every message
// is wrapped in a PreKeySignalMessage carrying what X3DH needs.
//
// Expected failures (a tampered, replayed, too-far-ahead or unknown message; a bundle with a bad signature)
// are status values, never exceptions, and leave the record untouched.
using System.Security.Cryptography;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Chat;

/// <summary>Why starting a session failed, or <see cref="Ok"/>.</summary>
public enum ChatSessionStatus
{
    /// <summary>The session was installed.</summary>
    Ok,

    /// <summary>The device certificate is not signed by the trusted account key.</summary>
    InvalidCertificate,

    /// <summary>The signed prekey's signature does not verify under the certified device signing key.</summary>
    InvalidSignedPreKey,

    /// <summary>A peer key is a low-order point: agreement with it is refused.</summary>
    LowOrderKey,

    /// <summary>The bundle carries a hybrid ML-KEM prekey, which this platform cannot use (reserved v4 slot).</summary>
    HybridKemUnavailable,
}

/// <summary>The outcome of a decryption.</summary>
public enum ChatDecryptStatus
{
    /// <summary>Decrypted; the session advanced.</summary>
    Ok,

    /// <summary>The bytes are not a v3 message of the expected type.</summary>
    Malformed,

    /// <summary>No session can decrypt a SignalMessage from this device.</summary>
    NoSession,

    /// <summary>The MAC, the ciphertext or the padding is wrong.</summary>
    InvalidMessage,

    /// <summary>This message was already decrypted (or its key was evicted).</summary>
    Duplicate,

    /// <summary>The counter is more than 25,000 ahead of its chain.</summary>
    TooFarAhead,

    /// <summary>The PreKeySignalMessage names a signed or one-time prekey this device does not hold.</summary>
    UnknownPreKey,

    /// <summary>The sender's identity key is not the one the caller trusts for this device.</summary>
    UntrustedIdentity,

    /// <summary>A key in the message is a low-order point.</summary>
    LowOrderKey,
}

/// <summary>A decryption's status and, when <see cref="ChatDecryptStatus.Ok"/>, the plaintext.</summary>
/// <param name="Status">The outcome.</param>
/// <param name="Plaintext">The unpadded plaintext, on success.</param>
/// <param name="UsedOneTimePreKeyId">The one-time prekey a new session consumed: the caller deletes it.</param>
public readonly record struct ChatDecryptResult(ChatDecryptStatus Status, byte[]? Plaintext = null, uint? UsedOneTimePreKeyId = null);

/// <summary>An encrypted message and its type.</summary>
/// <param name="IsPreKey">Whether it is a PreKeySignalMessage (else a SignalMessage).</param>
/// <param name="Serialized">The bytes to send.</param>
public readonly record struct ChatCiphertext(bool IsPreKey, byte[] Serialized);

/// <summary>The responder's private prekeys, looked up by id (the caller's store; no I/O here).</summary>
public interface IChatPreKeys
{
    /// <summary>The signed prekey with <paramref name="id"/>, or null.</summary>
    X25519PrivateKey? SignedPreKey(uint id);

    /// <summary>The unused one-time prekey with <paramref name="id"/>, or null.</summary>
    X25519PrivateKey? OneTimePreKey(uint id);
}

/// <summary>Session setup and the Double Ratchet.</summary>
public static class SessionCipher
{
    /// <summary>
    /// X3DH as initiator: checks the bundle against <paramref name="trustedAccountKey"/> (certificate, then the
    /// signed prekey signature) and installs a new current session in <paramref name="record"/>.
    /// </summary>
    public static ChatSessionStatus Initiate(
        SessionRecord record, ChatDeviceKeys ourDevice, uint ourRegistrationId, PreKeyBundle bundle, Ed25519PublicKey trustedAccountKey) =>
        Initiate(record, ourDevice, ourRegistrationId, bundle, trustedAccountKey, X25519PrivateKey.Generate);

    /// <summary><see cref="Initiate(SessionRecord, ChatDeviceKeys, uint, PreKeyBundle, Ed25519PublicKey)"/> with a chosen key source (vectors).</summary>
    internal static ChatSessionStatus Initiate(
        SessionRecord record, ChatDeviceKeys ourDevice, uint ourRegistrationId, PreKeyBundle bundle, Ed25519PublicKey trustedAccountKey,
        Func<X25519PrivateKey> newKey)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(ourDevice);
        ArgumentNullException.ThrowIfNull(bundle);
        if (bundle.KemPreKey is not null)
        {
            return ChatSessionStatus.HybridKemUnavailable;
        }

        if (!bundle.Certificate.Verify(trustedAccountKey))
        {
            return ChatSessionStatus.InvalidCertificate;
        }

        if (!SignedPreKey.Verify(bundle.Certificate.SigningKey, bundle.SignedPreKey, bundle.SignedPreKeySignature))
        {
            return ChatSessionStatus.InvalidSignedPreKey;
        }

        var theirIdentity = bundle.Certificate.IdentityKey;
        using var baseKey = newKey();
        var keys = X3dh.Initiate(ourDevice.IdentityKey, baseKey, theirIdentity, bundle.SignedPreKey, bundle.OneTimePreKey?.Key);
        if (keys is not { } derived)
        {
            return ChatSessionStatus.LowOrderKey;
        }

        var sendingRatchet = newKey();
        var sending = RatchetKdf.Root(derived.RootKey, sendingRatchet, bundle.SignedPreKey);
        if (sending is not { } chain)
        {
            sendingRatchet.Dispose();
            return ChatSessionStatus.LowOrderKey;
        }

        var state = new SessionState(
            ourDevice.IdentityKey.PublicKey, theirIdentity, ourRegistrationId, bundle.RegistrationId,
            baseKey.PublicKey, chain.RootKey, sendingRatchet, chain.ChainKey)
        {
            Pending = new PendingPreKey(bundle.OneTimePreKey?.Id, bundle.SignedPreKeyId, baseKey.PublicKey),
        };
        state.AddReceiverChain(new ReceiverChain(bundle.SignedPreKey, derived.ChainKey));
        CryptographicOperations.ZeroMemory(derived.RootKey);
        record.Install(state);
        return ChatSessionStatus.Ok;
    }

    /// <summary>Encrypts <paramref name="plaintext"/> (padded here) with the record's current session.</summary>
    /// <exception cref="InvalidOperationException">The record has no session.</exception>
    public static ChatCiphertext Encrypt(SessionRecord record, ReadOnlySpan<byte> plaintext) => Encrypt(record, plaintext, []);

    /// <summary>Encrypts, copying the message's MAC key out when <paramref name="macKey"/> is 32 bytes (the libsignal oracle test).</summary>
    internal static ChatCiphertext Encrypt(SessionRecord record, ReadOnlySpan<byte> plaintext, Span<byte> macKey)
    {
        ArgumentNullException.ThrowIfNull(record);
        var state = record.Current ?? throw new InvalidOperationException("The record has no session to encrypt with.");
        Span<byte> seed = stackalloc byte[32];
        Span<byte> next = stackalloc byte[32];
        Span<byte> keys = stackalloc byte[RatchetKdf.MessageKeysLength];
        try
        {
            RatchetKdf.Step(state.SenderChainKey, seed, next);
            RatchetKdf.MessageKeys(seed, keys);
            byte[] ciphertext;
            using (var aes = CreateAes(keys[..32]))
            {
                ciphertext = aes.EncryptCbc(ChatPadding.Pad(plaintext), keys[64..80], PaddingMode.PKCS7);
            }

            var message = SignalMessage.Create(
                state.SenderRatchet.PublicKey, state.SenderIndex, state.PreviousCounter, ciphertext,
                keys[32..64], state.LocalIdentity, state.RemoteIdentity);
            if (macKey.Length == 32)
            {
                keys[32..64].CopyTo(macKey);
            }

            next.CopyTo(state.SenderChainKey);
            state.SenderIndex++;
            if (state.Pending is not { } pending)
            {
                return new ChatCiphertext(false, message.Serialized);
            }

            var preKeyMessage = PreKeySignalMessage.Create(
                state.LocalRegistrationId, pending.PreKeyId, pending.SignedPreKeyId, pending.BaseKey,
                ChatPublicKey.TryParse(state.LocalIdentity)!, message);
            return new ChatCiphertext(true, preKeyMessage.Serialized);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
            CryptographicOperations.ZeroMemory(next);
            CryptographicOperations.ZeroMemory(keys);
        }
    }

    /// <summary>Decrypts a SignalMessage with the current or an archived session (promoting the latter).</summary>
    public static ChatDecryptResult Decrypt(SessionRecord record, ReadOnlySpan<byte> serialized) =>
        Decrypt(record, serialized, X25519PrivateKey.Generate);

    internal static ChatDecryptResult Decrypt(SessionRecord record, ReadOnlySpan<byte> serialized, Func<X25519PrivateKey> newKey)
    {
        ArgumentNullException.ThrowIfNull(record);
        var message = SignalMessage.TryParse(serialized);
        if (message is null)
        {
            return new ChatDecryptResult(ChatDecryptStatus.Malformed);
        }

        if (record.Current is null)
        {
            return new ChatDecryptResult(ChatDecryptStatus.NoSession);
        }

        ChatDecryptStatus? first = null;
        var index = 0;
        foreach (var state in record.All())
        {
            var result = TryDecrypt(state, message, newKey);
            if (result.Status == ChatDecryptStatus.Ok)
            {
                if (index > 0)
                {
                    record.Promote(index - 1);
                }

                return result;
            }

            // The current session's reason is the one worth reporting (a duplicate, a jump too far).
            first ??= result.Status;
            index++;
        }

        return new ChatDecryptResult(first ?? ChatDecryptStatus.NoSession);
    }

    /// <summary>
    /// Decrypts a PreKeySignalMessage: reuses the session it already made (same base key) or runs X3DH as
    /// responder, decrypts, and only then installs the new session. <paramref name="trustedIdentity"/>, when
    /// given, must equal the sender's identity key.
    /// </summary>
    public static ChatDecryptResult DecryptPreKey(
        SessionRecord record, ChatDeviceKeys ourDevice, uint ourRegistrationId, IChatPreKeys preKeys,
        ReadOnlySpan<byte> serialized, X25519PublicKey? trustedIdentity = null) =>
        DecryptPreKey(record, ourDevice, ourRegistrationId, preKeys, serialized, trustedIdentity, X25519PrivateKey.Generate);

    internal static ChatDecryptResult DecryptPreKey(
        SessionRecord record, ChatDeviceKeys ourDevice, uint ourRegistrationId, IChatPreKeys preKeys,
        ReadOnlySpan<byte> serialized, X25519PublicKey? trustedIdentity, Func<X25519PrivateKey> newKey)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(ourDevice);
        ArgumentNullException.ThrowIfNull(preKeys);
        var message = PreKeySignalMessage.TryParse(serialized);
        if (message is null)
        {
            return new ChatDecryptResult(ChatDecryptStatus.Malformed);
        }

        if (trustedIdentity is not null && !trustedIdentity.Equals(message.IdentityKey))
        {
            return new ChatDecryptResult(ChatDecryptStatus.UntrustedIdentity);
        }

        var existing = record.IndexOfBaseKey(message.BaseKey);
        if (existing >= 0)
        {
            var state = existing == 0 ? record.Current! : record.Archived[existing - 1];
            if (!state.RemoteIdentityKey.Equals(message.IdentityKey))
            {
                return new ChatDecryptResult(ChatDecryptStatus.UntrustedIdentity);
            }

            var again = TryDecrypt(state, message.Message, newKey);
            if (again.Status == ChatDecryptStatus.Ok && existing > 0)
            {
                record.Promote(existing - 1);
            }

            return again;
        }

        var signedPreKey = preKeys.SignedPreKey(message.SignedPreKeyId);
        var oneTimePreKey = message.PreKeyId is { } id ? preKeys.OneTimePreKey(id) : null;
        if (signedPreKey is null || (message.PreKeyId is not null && oneTimePreKey is null))
        {
            return new ChatDecryptResult(ChatDecryptStatus.UnknownPreKey);
        }

        var keys = X3dh.Respond(ourDevice.IdentityKey, signedPreKey, oneTimePreKey, message.IdentityKey, message.BaseKey);
        if (keys is not { } derived)
        {
            return new ChatDecryptResult(ChatDecryptStatus.LowOrderKey);
        }

        // The responder's first ratchet key is its signed prekey, as in libsignal: a copy the session owns
        // (the prekey store keeps its own), with the public key carried over instead of recomputed.
        var ratchet = signedPreKey.Duplicate();

        var fresh = new SessionState(
            ourDevice.IdentityKey.PublicKey, message.IdentityKey, ourRegistrationId, message.RegistrationId,
            message.BaseKey, derived.RootKey, ratchet, derived.ChainKey);
        var result = TryDecrypt(fresh, message.Message, newKey);
        if (result.Status != ChatDecryptStatus.Ok)
        {
            fresh.Dispose();
            return result;
        }

        record.Install(fresh);
        return result with { UsedOneTimePreKeyId = message.PreKeyId };
    }

    /// <summary>Decrypts with one state, changing it only on success.</summary>
    private static ChatDecryptResult TryDecrypt(SessionState state, SignalMessage message, Func<X25519PrivateKey> newKey)
    {
        var chain = state.FindReceiverChain(message.RatchetKey);
        (byte[] RootKey, byte[] ChainKey)? received = null, sending = null;
        X25519PrivateKey? nextRatchet = null;
        try
        {
            byte[] chainKey;
            uint chainIndex;
            if (chain is null)
            {
                // A new ratchet key from the peer: the DH ratchet step, computed on the side.
                received = RatchetKdf.Root(state.RootKey, state.SenderRatchet, message.RatchetKey);
                if (received is null)
                {
                    return new ChatDecryptResult(ChatDecryptStatus.LowOrderKey);
                }

                nextRatchet = newKey();
                sending = RatchetKdf.Root(received.Value.RootKey, nextRatchet, message.RatchetKey);
                chainKey = received.Value.ChainKey;
                chainIndex = 0;
            }
            else
            {
                chainKey = chain.ChainKey;
                chainIndex = chain.Index;
            }

            var counter = message.Counter;
            byte[] seed;
            var skippedSlot = -1;
            List<(uint Index, byte[] Seed)>? newlySkipped = null;
            byte[]? nextChainKey = null;
            if (counter < chainIndex)
            {
                skippedSlot = chain?.Skipped.FindIndex(s => s.Index == counter) ?? -1;
                if (skippedSlot < 0)
                {
                    return new ChatDecryptResult(ChatDecryptStatus.Duplicate);
                }

                seed = chain!.Skipped[skippedSlot].Seed;
            }
            else
            {
                if (counter - chainIndex > ChatSessionLimits.MaxForwardJumps)
                {
                    return new ChatDecryptResult(ChatDecryptStatus.TooFarAhead);
                }

                (seed, nextChainKey, newlySkipped) = RatchetKdf.Walk(chainKey, chainIndex, counter);
            }

            var plaintext = OpenWithSeed(state, message, seed);
            if (plaintext is null)
            {
                return new ChatDecryptResult(ChatDecryptStatus.InvalidMessage);
            }

            // Authentic: apply every change.
            if (chain is null)
            {
                if (sending is not { } s)
                {
                    return new ChatDecryptResult(ChatDecryptStatus.LowOrderKey);
                }

                chain = new ReceiverChain(message.RatchetKey, received!.Value.ChainKey);
                state.AddReceiverChain(chain);
                state.PreviousCounter = Math.Max(state.SenderIndex, 1) - 1;
                state.SenderRatchet.Dispose();
                state.SenderRatchet = nextRatchet!;
                nextRatchet = null;
                state.RootKey = s.RootKey;
                state.SenderChainKey = s.ChainKey;
                state.SenderIndex = 0;
            }

            if (skippedSlot >= 0)
            {
                CryptographicOperations.ZeroMemory(chain.Skipped[skippedSlot].Seed);
                chain.Skipped.RemoveAt(skippedSlot);
            }
            else
            {
                RatchetKdf.StoreSkipped(chain.Skipped, newlySkipped!);
                chain.ChainKey = nextChainKey!;
                chain.Index = counter + 1;
            }

            state.Pending = null;
            return new ChatDecryptResult(ChatDecryptStatus.Ok, plaintext);
        }
        finally
        {
            nextRatchet?.Dispose();
        }
    }

    private static Aes CreateAes(ReadOnlySpan<byte> key)
    {
        var copy = key.ToArray();
        try
        {
            var aes = Aes.Create();
            aes.Key = copy;
            return aes;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(copy);
        }
    }

    private static byte[]? OpenWithSeed(SessionState state, SignalMessage message, ReadOnlySpan<byte> seed)
    {
        Span<byte> keys = stackalloc byte[RatchetKdf.MessageKeysLength];
        try
        {
            RatchetKdf.MessageKeys(seed, keys);
            if (!message.VerifyMac(keys[32..64], state.RemoteIdentity, state.LocalIdentity)
                || message.Ciphertext.Length == 0 || message.Ciphertext.Length % 16 != 0)
            {
                return null;
            }

            using var aes = CreateAes(keys[..32]);
            var padded = new byte[message.Ciphertext.Length];
            if (!aes.TryDecryptCbc(message.Ciphertext, keys[64..80], padded, out var written, PaddingMode.PKCS7))
            {
                return null;
            }

            return ChatPadding.TryUnpad(padded.AsSpan(0, written));
        }
        catch (CryptographicException)
        {
            // A bad PKCS#7 pad after a good MAC: the sender is broken, not the receiver; refuse the message.
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keys);
        }
    }
}
