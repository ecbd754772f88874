// Test kit for the chat core: accounts with one device, prekey stores, and session set-up in one call.
using Veil.Crypto.Chat;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Tests.Chat;

/// <summary>One account with one device: its keys, certificate, signed prekey and one-time prekeys.</summary>
internal sealed class ChatParty : IChatPreKeys, IDisposable
{
    private readonly Dictionary<uint, X25519PrivateKey> _oneTime = [];

    internal ChatParty(uint registrationId, uint deviceId = 1)
    {
        RegistrationId = registrationId;
        Account = ChatAccountKey.Generate();
        Device = ChatDeviceKeys.Generate();
        Certificate = Account.Certify(deviceId, Device);
        SignedPreKey = Device.CreateSignedPreKey(7);
        for (uint id = 100; id < 105; id++)
        {
            _oneTime[id] = X25519PrivateKey.Generate();
        }
    }

    internal uint RegistrationId { get; }

    internal ChatAccountKey Account { get; }

    internal ChatDeviceKeys Device { get; }

    internal DeviceCertificate Certificate { get; }

    internal SignedPreKey SignedPreKey { get; }

    /// <summary>Sessions this party holds with the other party's device.</summary>
    internal SessionRecord Record { get; } = new();

    internal int OneTimeLeft => _oneTime.Count;

    /// <summary>A bundle as the relay would hand it out, with the lowest one-time prekey left (if any).</summary>
    internal PreKeyBundle Bundle(bool withOneTime = true)
    {
        var oneTime = withOneTime && _oneTime.Count > 0 ? _oneTime.MinBy(p => p.Key) : default;
        return new PreKeyBundle(
            RegistrationId, Certificate, SignedPreKey.Id, SignedPreKey.Key.PublicKey, SignedPreKey.Signature,
            oneTime.Value is null ? null : new OneTimePreKeyPublic(oneTime.Key, oneTime.Value.PublicKey));
    }

    /// <summary>Starts a session with <paramref name="peer"/> as X3DH initiator; asserts it worked.</summary>
    internal void Initiate(ChatParty peer, bool withOneTime = true) =>
        Assert.Equal(ChatSessionStatus.Ok, SessionCipher.Initiate(Record, Device, RegistrationId, peer.Bundle(withOneTime), peer.Account.PublicKey));

    internal byte[] Send(string text) => SessionCipher.Encrypt(Record, System.Text.Encoding.UTF8.GetBytes(text)).Serialized;

    /// <summary>Receives either message type the way a client would: by its type, then consuming the one-time prekey.</summary>
    internal ChatDecryptResult Receive(byte[] serialized, bool isPreKey)
    {
        var result = isPreKey
            ? SessionCipher.DecryptPreKey(Record, Device, RegistrationId, this, serialized)
            : SessionCipher.Decrypt(Record, serialized);
        if (result.UsedOneTimePreKeyId is { } used && _oneTime.Remove(used, out var key))
        {
            key.Dispose();
        }

        return result;
    }

    internal ChatDecryptResult Receive(ChatCiphertext message) => Receive(message.Serialized, message.IsPreKey);

    internal string ReceiveText(ChatCiphertext message)
    {
        var result = Receive(message);
        Assert.Equal(ChatDecryptStatus.Ok, result.Status);
        return System.Text.Encoding.UTF8.GetString(result.Plaintext!);
    }

    internal ChatCiphertext Encrypt(string text) => SessionCipher.Encrypt(Record, System.Text.Encoding.UTF8.GetBytes(text));

    X25519PrivateKey? IChatPreKeys.SignedPreKey(uint id) => id == SignedPreKey.Id ? SignedPreKey.Key : null;

    public X25519PrivateKey? OneTimePreKey(uint id) => _oneTime.GetValueOrDefault(id);

    public void Dispose()
    {
        Record.Dispose();
        SignedPreKey.Dispose();
        Device.Dispose();
        Account.Dispose();
        foreach (var key in _oneTime.Values)
        {
            key.Dispose();
        }
    }
}

/// <summary>Shared inputs for the chat tests.</summary>
internal static class ChatInputs
{
    /// <summary>The 31 Wycheproof X25519 public keys whose shared secret is all zeros (low-order points).</summary>
    internal static List<X25519PublicKey> LowOrderPoints()
    {
        using var document = VectorFiles.Json("wycheproof/testvectors_v1/x25519_test.json");
        return VectorFiles.WycheproofTests(document)
            .Where(t => t.Test.GetProperty("flags").EnumerateArray().Any(f => f.GetString() == "ZeroSharedSecret"))
            .Select(t => X25519PublicKey.Import(t.Test.Hex("public")))
            .ToList();
    }
}

/// <summary>Two parties with an established session (Alice initiated, Bob answered once).</summary>
internal sealed class ChatPair : IDisposable
{
    internal ChatPair(bool established = true)
    {
        if (established)
        {
            Alice.Initiate(Bob);
            Assert.Equal("hello", Bob.ReceiveText(Alice.Encrypt("hello")));
            Assert.Equal("hi", Alice.ReceiveText(Bob.Encrypt("hi")));
        }
    }

    internal ChatParty Alice { get; } = new(1111);

    internal ChatParty Bob { get; } = new(2222);

    public void Dispose()
    {
        Alice.Dispose();
        Bob.Dispose();
    }
}
