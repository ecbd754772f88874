// X3DH checks and Double Ratchet behaviour through the public session API, with real libsodium keys.
using Veil.Crypto.Chat;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Tests.Chat;

public sealed class ChatSessionTests
{
    [Fact]
    public void A_session_carries_messages_both_ways_and_consumes_the_one_time_prekey()
    {
        using var pair = new ChatPair(established: false);
        pair.Alice.Initiate(pair.Bob);

        var first = pair.Alice.Encrypt("one");
        var second = pair.Alice.Encrypt("two");
        Assert.True(first.IsPreKey);
        Assert.Equal("two", pair.Bob.ReceiveText(second));
        Assert.Equal(4, pair.Bob.OneTimeLeft);
        Assert.Equal("one", pair.Bob.ReceiveText(first));

        var reply = pair.Bob.Encrypt("three");
        Assert.False(reply.IsPreKey);
        Assert.Equal("three", pair.Alice.ReceiveText(reply));
        Assert.False(pair.Alice.Encrypt("four").IsPreKey);

        // Ciphertexts are multiples of 160 bytes whatever the text length (Signal's padding + PKCS#7).
        foreach (var length in new[] { 0, 158, 159, 1000 })
        {
            var message = SignalMessage.TryParse(SessionCipher.Encrypt(pair.Bob.Record, new byte[length]).Serialized)!;
            Assert.Equal(0, message.Ciphertext.Length % ChatPadding.Block);
        }
    }

    [Fact]
    public void Initiate_refuses_a_certificate_not_signed_by_the_trusted_account_key()
    {
        using var pair = new ChatPair(established: false);
        using var stranger = ChatAccountKey.Generate();

        var status = SessionCipher.Initiate(pair.Alice.Record, pair.Alice.Device, 1, pair.Bob.Bundle(), stranger.PublicKey);

        Assert.Equal(ChatSessionStatus.InvalidCertificate, status);
        Assert.Null(pair.Alice.Record.Current);
    }

    [Fact]
    public void Initiate_refuses_a_signed_prekey_whose_signature_does_not_verify()
    {
        using var pair = new ChatPair(established: false);
        using var other = X25519PrivateKey.Generate();
        var bundle = pair.Bob.Bundle() with { SignedPreKey = other.PublicKey };

        var status = SessionCipher.Initiate(pair.Alice.Record, pair.Alice.Device, 1, bundle, pair.Bob.Account.PublicKey);

        Assert.Equal(ChatSessionStatus.InvalidSignedPreKey, status);
        Assert.Null(pair.Alice.Record.Current);
    }

    [Fact]
    public void Initiate_refuses_a_hybrid_kem_prekey_because_the_slot_is_reserved()
    {
        using var pair = new ChatPair(established: false);
        var bundle = pair.Bob.Bundle() with { KemPreKey = new byte[1569] };

        Assert.Equal(ChatSessionStatus.HybridKemUnavailable, SessionCipher.Initiate(pair.Alice.Record, pair.Alice.Device, 1, bundle, pair.Bob.Account.PublicKey));
        Assert.Null(pair.Alice.Record.Current);
    }

    [Fact]
    public void Every_Wycheproof_low_order_point_is_refused_as_signed_prekey_identity_or_base_key()
    {
        var lowOrder = ChatInputs.LowOrderPoints();
        Assert.Equal(31, lowOrder.Count);

        using var pair = new ChatPair(established: false);
        pair.Alice.Initiate(pair.Bob);
        var genuine = PreKeySignalMessage.TryParse(pair.Alice.Encrypt("x").Serialized)!;
        foreach (var point in lowOrder)
        {
            // As the signed prekey, properly signed by Bob's device.
            var signedBundle = pair.Bob.Bundle() with
            {
                SignedPreKey = point,
                SignedPreKeySignature = pair.Bob.Device.SigningKey.Sign(SignedPreKey.SignedBytes(point)),
            };
            using var record = new SessionRecord();
            Assert.Equal(ChatSessionStatus.LowOrderKey, SessionCipher.Initiate(record, pair.Alice.Device, 1, signedBundle, pair.Bob.Account.PublicKey));
            Assert.Null(record.Current);

            // As the device identity key, properly certified by Bob's account.
            var certificate = pair.Bob.Certificate with
            {
                IdentityKey = point,
                Signature = SignWithAccount(pair.Bob, DeviceCertificate.SignedBytes(1, pair.Bob.Device.SigningKey.PublicKey, point)),
            };
            Assert.True(certificate.Verify(pair.Bob.Account.PublicKey));
            Assert.Equal(ChatSessionStatus.LowOrderKey, SessionCipher.Initiate(record, pair.Alice.Device, 1, pair.Bob.Bundle() with { Certificate = certificate }, pair.Bob.Account.PublicKey));

            // As the initiator's base key in a PreKeySignalMessage: refused, nothing consumed, nothing installed.
            var forged = PreKeySignalMessage.Create(genuine.RegistrationId, genuine.PreKeyId, genuine.SignedPreKeyId, point, genuine.IdentityKey, genuine.Message);
            Assert.Equal(ChatDecryptStatus.LowOrderKey, pair.Bob.Receive(forged.Serialized, isPreKey: true).Status);
            Assert.Null(pair.Bob.Record.Current);
            Assert.Equal(5, pair.Bob.OneTimeLeft);
        }

        Assert.Equal(ChatDecryptStatus.Ok, pair.Bob.Receive(genuine.Serialized, isPreKey: true).Status);
    }

    private static byte[] SignWithAccount(ChatParty party, byte[] bytes)
    {
        var seed = new byte[32];
        party.Account.ExportSeed(seed);
        using var key = Ed25519PrivateKey.ImportSeed(seed);
        return key.Sign(bytes);
    }

    [Fact]
    public void Keys_with_another_type_byte_and_messages_of_other_versions_are_refused()
    {
        using var pair = new ChatPair();
        var serialized = pair.Alice.Encrypt("x").Serialized;
        var keyBytes = ChatPublicKey.Serialize(pair.Alice.Device.IdentityKey.PublicKey);
        keyBytes[0] = 0x06;
        Assert.Null(ChatPublicKey.TryParse(keyBytes));
        Assert.Null(ChatPublicKey.TryParse(keyBytes.AsSpan(1)));

        foreach (var version in new byte[] { 0x22, 0x32, 0x43, 0x44 })
        {
            var other = (byte[])serialized.Clone();
            other[0] = version;
            Assert.Equal(ChatDecryptStatus.Malformed, pair.Bob.Receive(other, isPreKey: false).Status);
        }

        // libsignal 0.103's v3 byte (0x34) parses, but the MAC covers it, so this copy is refused as altered.
        var libsignalStyle = (byte[])serialized.Clone();
        libsignalStyle[0] = 0x34;
        Assert.NotNull(SignalMessage.TryParse(libsignalStyle));
        Assert.Equal(ChatDecryptStatus.InvalidMessage, pair.Bob.Receive(libsignalStyle, isPreKey: false).Status);

        Assert.Equal("x", pair.Bob.ReceiveText(new ChatCiphertext(false, serialized)));
    }

    [Fact]
    public void A_tampered_message_is_refused_and_changes_nothing()
    {
        using var pair = new ChatPair();
        var message = pair.Alice.Encrypt("secret").Serialized;
        for (var i = 1; i < message.Length; i++)
        {
            var tampered = (byte[])message.Clone();
            tampered[i] ^= 0x01;
            Assert.NotEqual(ChatDecryptStatus.Ok, pair.Bob.Receive(tampered, isPreKey: false).Status);
        }

        Assert.Equal("secret", pair.Bob.ReceiveText(new ChatCiphertext(false, message)));
    }

    [Fact]
    public void The_mac_binds_both_identities_so_another_receiver_cannot_open_the_message()
    {
        using var pair = new ChatPair();
        using var carol = new ChatParty(3333);
        carol.Initiate(pair.Alice);
        var toBob = pair.Alice.Encrypt("for bob").Serialized;

        Assert.NotEqual(ChatDecryptStatus.Ok, SessionCipher.Decrypt(carol.Record, toBob).Status);
    }

    [Fact]
    public void Receiver_chains_are_capped_at_5_and_archived_sessions_at_40()
    {
        using var pair = new ChatPair();
        for (var round = 0; round < 8; round++)
        {
            Assert.Equal("ping", pair.Bob.ReceiveText(pair.Alice.Encrypt("ping")));
            Assert.Equal("pong", pair.Alice.ReceiveText(pair.Bob.Encrypt("pong")));
        }

        Assert.Equal(ChatSessionLimits.MaxReceiverChains, pair.Bob.Record.Current!.ReceiverChainCount);
        Assert.Equal(ChatSessionLimits.MaxReceiverChains, pair.Alice.Record.Current!.ReceiverChainCount);

        for (var i = 0; i < 45; i++)
        {
            pair.Alice.Initiate(pair.Bob, withOneTime: false);
        }

        Assert.Equal(ChatSessionLimits.MaxArchivedStates, pair.Alice.Record.Archived.Count);
    }

    [Fact]
    public void A_message_from_an_archived_session_is_decrypted_and_promotes_it()
    {
        using var pair = new ChatPair();
        var late = pair.Alice.Encrypt("late");

        // Bob gets a fresh session from Alice (say, after she reinstalled): the old one is archived.
        pair.Alice.Record.Dispose();
        pair.Alice.Initiate(pair.Bob, withOneTime: false);
        var oldBaseKey = pair.Bob.Record.Current!;
        Assert.Equal("new", pair.Bob.ReceiveText(pair.Alice.Encrypt("new")));
        Assert.Single(pair.Bob.Record.Archived);
        Assert.Same(oldBaseKey, pair.Bob.Record.Archived[0]);

        Assert.Equal("late", pair.Bob.ReceiveText(late));
        Assert.Same(oldBaseKey, pair.Bob.Record.Current);
    }
}
