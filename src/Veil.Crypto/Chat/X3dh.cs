// X3DH key agreement with Signal's v3 KDF (spec/chat-wire.md §3).
//
//   secret = 0xFF × 32 || DH1 || DH2 || DH3 [|| DH4]
//   initiator (Alice): DH1 = X25519(IK_A, SPK_B), DH2 = X25519(EK_A, IK_B), DH3 = X25519(EK_A, SPK_B), DH4 = X25519(EK_A, OPK_B)
//   responder (Bob):   DH1 = X25519(SPK_B, IK_A), DH2 = X25519(IK_B, EK_A), DH3 = X25519(SPK_B, EK_A), DH4 = X25519(OPK_B, EK_A)
//   root_key || chain_key = HKDF-SHA256(salt = 32 zero bytes, ikm = secret, info = "WhisperText", L = 64)
//
// The 0xFF prefix is Signal's "discontinuity bytes" (X3DH §2.2: F is 32 0xFF bytes for X25519). These are
// exactly libsignal's constants, so its known-answer vectors (tests/vectors/signal) apply byte for byte.
// Every DH refuses a low-order peer point (an all-zero output): a session never starts from a secret an
// attacker can predict. Reference: https://signal.org/docs/specifications/x3dh/
using System.Security.Cryptography;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Chat;

/// <summary>The 64 bytes X3DH yields: the first root key and the first chain key.</summary>
internal readonly record struct X3dhKeys(byte[] RootKey, byte[] ChainKey);

/// <summary>X3DH's shared-secret computation and KDF, for both roles.</summary>
internal static class X3dh
{
    private const int DhLength = 32;

    internal static ReadOnlySpan<byte> KdfInfo => "WhisperText"u8;

    /// <summary>The initiator's side. Returns <see langword="null"/> if any peer key is a low-order point.</summary>
    internal static X3dhKeys? Initiate(
        X25519PrivateKey ourIdentity, X25519PrivateKey ourBase,
        X25519PublicKey theirIdentity, X25519PublicKey theirSignedPreKey, X25519PublicKey? theirOneTimePreKey) =>
        Derive(
            (ourIdentity, theirSignedPreKey),
            (ourBase, theirIdentity),
            (ourBase, theirSignedPreKey),
            theirOneTimePreKey is null ? null : (ourBase, theirOneTimePreKey));

    /// <summary>The responder's side. Returns <see langword="null"/> if any peer key is a low-order point.</summary>
    internal static X3dhKeys? Respond(
        X25519PrivateKey ourIdentity, X25519PrivateKey ourSignedPreKey, X25519PrivateKey? ourOneTimePreKey,
        X25519PublicKey theirIdentity, X25519PublicKey theirBase) =>
        Derive(
            (ourSignedPreKey, theirIdentity),
            (ourIdentity, theirBase),
            (ourSignedPreKey, theirBase),
            ourOneTimePreKey is null ? null : (ourOneTimePreKey, theirBase));

    private static X3dhKeys? Derive(
        (X25519PrivateKey Ours, X25519PublicKey Theirs) dh1,
        (X25519PrivateKey Ours, X25519PublicKey Theirs) dh2,
        (X25519PrivateKey Ours, X25519PublicKey Theirs) dh3,
        (X25519PrivateKey Ours, X25519PublicKey Theirs)? dh4)
    {
        var count = dh4 is null ? 4 : 5;
        Span<byte> secret = stackalloc byte[count * DhLength];
        Span<byte> output = stackalloc byte[64];
        try
        {
            secret[..DhLength].Fill(0xFF);
            if (!Agree(dh1, secret.Slice(DhLength, DhLength))
                || !Agree(dh2, secret.Slice(2 * DhLength, DhLength))
                || !Agree(dh3, secret.Slice(3 * DhLength, DhLength))
                || (dh4 is { } fourth && !Agree(fourth, secret.Slice(4 * DhLength, DhLength))))
            {
                return null;
            }

            Hkdf.DeriveSha256(secret, [], KdfInfo, output);
            return new X3dhKeys(output[..32].ToArray(), output[32..].ToArray());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
            CryptographicOperations.ZeroMemory(output);
        }
    }

    // Straight into the caller's buffer (stack memory it wipes): a SharedSecret would cost a sodium_malloc and
    // sodium_free per agreement for a value that lives a few microseconds. The low-order check is the same.
    internal static bool Agree((X25519PrivateKey Ours, X25519PublicKey Theirs) pair, Span<byte> destination) =>
        X25519.TryAgreeInto(pair.Ours, pair.Theirs, destination);
}

/// <summary>The Double Ratchet's KDFs in Signal's v3 construction (spec/chat-wire.md §4).</summary>
internal static class RatchetKdf
{
    internal const int MessageKeysLength = 80;

    internal static ReadOnlySpan<byte> RootInfo => "WhisperRatchet"u8;

    internal static ReadOnlySpan<byte> MessageKeysInfo => "WhisperMessageKeys"u8;

    /// <summary>
    /// KDF_RK: HKDF-SHA256(salt = root key, ikm = X25519(ours, theirs), info = "WhisperRatchet", L = 64)
    /// → (new root key, new chain key). <see langword="null"/> for a low-order <paramref name="theirs"/>.
    /// </summary>
    internal static (byte[] RootKey, byte[] ChainKey)? Root(ReadOnlySpan<byte> rootKey, X25519PrivateKey ours, X25519PublicKey theirs)
    {
        Span<byte> dh = stackalloc byte[32];
        Span<byte> output = stackalloc byte[64];
        try
        {
            if (!X3dh.Agree((ours, theirs), dh))
            {
                return null;
            }

            Hkdf.DeriveSha256(dh, rootKey, RootInfo, output);
            return (output[..32].ToArray(), output[32..].ToArray());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dh);
            CryptographicOperations.ZeroMemory(output);
        }
    }

    /// <summary>KDF_CK: message key seed = HMAC(ck, 0x01); next chain key = HMAC(ck, 0x02).</summary>
    internal static void Step(ReadOnlySpan<byte> chainKey, Span<byte> messageKeySeed, Span<byte> nextChainKey)
    {
        HMACSHA256.HashData(chainKey, [0x01], messageKeySeed);
        HMACSHA256.HashData(chainKey, [0x02], nextChainKey);
    }

    /// <summary>
    /// Steps a chain from index <paramref name="from"/> to <paramref name="to"/> (≥ from) without changing it: the
    /// seed for <paramref name="to"/>, the chain key after it, and the seeds skipped on the way (only the newest
    /// 2,000 can ever be kept, so older ones are not even returned).
    /// </summary>
    internal static (byte[] Seed, byte[] NextChainKey, List<(uint Index, byte[] Seed)> Skipped) Walk(byte[] chainKey, uint from, uint to)
    {
        var skipped = new List<(uint, byte[])>();
        var current = (byte[])chainKey.Clone();
        var seed = new byte[32];
        var next = new byte[32];
        for (var i = from; ; i++)
        {
            Step(current, seed, next);
            (current, next) = (next, current);
            if (i == to)
            {
                CryptographicOperations.ZeroMemory(next);
                return (seed, current, skipped);
            }

            if (to - i <= ChatSessionLimits.MaxMessageKeys)
            {
                skipped.Add((i, (byte[])seed.Clone()));
            }
        }
    }

    /// <summary>Appends newly skipped seeds and evicts the oldest beyond 2,000.</summary>
    internal static void StoreSkipped(List<(uint Index, byte[] Seed)> store, List<(uint Index, byte[] Seed)> added)
    {
        store.AddRange(added);
        var excess = store.Count - ChatSessionLimits.MaxMessageKeys;
        if (excess > 0)
        {
            store.Take(excess).ToList().ForEach(s => CryptographicOperations.ZeroMemory(s.Seed));
            store.RemoveRange(0, excess);
        }
    }

    /// <summary>
    /// Message keys: HKDF-SHA256(salt = zeros, ikm = seed, info = "WhisperMessageKeys", L = 80) →
    /// AES-256 key [0:32], HMAC-SHA256 key [32:64], CBC IV [64:80].
    /// </summary>
    internal static void MessageKeys(ReadOnlySpan<byte> seed, Span<byte> keys) => Hkdf.DeriveSha256(seed, [], MessageKeysInfo, keys);
}
