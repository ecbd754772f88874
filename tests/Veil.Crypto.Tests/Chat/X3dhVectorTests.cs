// Signal's X3DH and chain-key known answers (tests/vectors/signal, transcribed from libsignal's own tests)
// against Veil's X3DH and ratchet KDFs, byte for byte.
using System.Text.Json;
using Veil.Crypto.Chat;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Tests.Chat;

public sealed class X3dhVectorTests
{
    private static JsonDocument Vectors() => VectorFiles.Json("signal/libsignal_x3dh_chainkey_kat.json");

    private static X25519PublicKey Public(JsonElement v, string name) => ChatPublicKey.TryParse(v.Hex(name)) ?? throw new InvalidDataException(name);

    [Fact]
    public void Responder_reproduces_libsignal_as_bob()
    {
        using var document = Vectors();
        var v = document.RootElement.GetProperty("x3dh_vectors")[0];
        using var identity = X25519PrivateKey.Import(v.Hex("bob_identity_private"));
        using var signedPreKey = X25519PrivateKey.Import(v.Hex("bob_signed_prekey_private"));
        Assert.Equal(v.Hex("bob_identity_public"), ChatPublicKey.Serialize(identity.PublicKey));
        Assert.Equal(v.Hex("bob_signed_prekey_public"), ChatPublicKey.Serialize(signedPreKey.PublicKey));

        var keys = X3dh.Respond(identity, signedPreKey, null, Public(v, "alice_identity_public"), Public(v, "alice_base_public"));

        Assert.NotNull(keys);
        Assert.Equal(v.Hex("expected_root_key_derived_here"), keys.Value.RootKey);
        Assert.Equal(v.Hex("expected_sender_chain_key"), keys.Value.ChainKey);
    }

    [Fact]
    public void Initiator_reproduces_libsignal_as_alice()
    {
        using var document = Vectors();
        var v = document.RootElement.GetProperty("x3dh_vectors")[1];
        using var identity = X25519PrivateKey.Import(v.Hex("alice_identity_private"));
        using var baseKey = X25519PrivateKey.Import(v.Hex("alice_base_private"));

        var keys = X3dh.Initiate(identity, baseKey, Public(v, "bob_identity_public"), Public(v, "bob_signed_prekey_public"), null);

        Assert.NotNull(keys);
        Assert.Equal(v.Hex("expected_root_key_derived_here"), keys.Value.RootKey);
        Assert.Equal(v.Hex("expected_receiver_chain_key"), keys.Value.ChainKey);
    }

    [Fact]
    public void Chain_step_and_message_keys_reproduce_libsignal()
    {
        using var document = Vectors();
        var v = document.RootElement.GetProperty("chain_key_vectors")[0];
        var seed = new byte[32];
        var next = new byte[32];
        var keys = new byte[80];

        RatchetKdf.Step(v.Hex("chain_key"), seed, next);
        RatchetKdf.MessageKeys(seed, keys);

        Assert.Equal(v.Hex("expected_cipher_key"), keys[..32]);
        Assert.Equal(v.Hex("expected_mac_key"), keys[32..64]);
        Assert.Equal(v.Hex("expected_iv_derived_here"), keys[64..]);
        Assert.Equal(v.Hex("expected_next_chain_key"), next);
    }

    [Fact]
    public void Both_sides_agree_with_and_without_a_one_time_prekey()
    {
        foreach (var withOneTime in new[] { false, true })
        {
            using var alice = X25519PrivateKey.Generate();
            using var aliceBase = X25519PrivateKey.Generate();
            using var bob = X25519PrivateKey.Generate();
            using var bobSigned = X25519PrivateKey.Generate();
            using var bobOneTime = X25519PrivateKey.Generate();

            var a = X3dh.Initiate(alice, aliceBase, bob.PublicKey, bobSigned.PublicKey, withOneTime ? bobOneTime.PublicKey : null)!.Value;
            var b = X3dh.Respond(bob, bobSigned, withOneTime ? bobOneTime : null, alice.PublicKey, aliceBase.PublicKey)!.Value;
            var without = X3dh.Respond(bob, bobSigned, null, alice.PublicKey, aliceBase.PublicKey)!.Value;

            Assert.Equal(a.RootKey, b.RootKey);
            Assert.Equal(a.ChainKey, b.ChainKey);
            // The one-time prekey really enters the secret.
            Assert.Equal(!withOneTime, a.RootKey.AsSpan().SequenceEqual(without.RootKey));
        }
    }
}
