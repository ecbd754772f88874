// spec/vectors/chat/session-v3.json: a complete, deterministic Veil chat session (keys, certificate, bundle
// signatures, X3DH output, and every message's bytes, with out-of-order delivery and four ratchet steps),
// produced by this code for other implementations (the browser client) to reproduce.
// Set VEIL_WRITE_CHAT_VECTORS=<path> to write it; otherwise the file must be reproduced exactly.
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Veil.Crypto.Chat;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Tests.Chat;

public sealed class ChatVectorTests
{
    private const string File = "chat/session-v3.json";

    [Fact]
    public void Session_v3_vector_is_reproduced_byte_for_byte()
    {
        var produced = Produce();
        if (Environment.GetEnvironmentVariable("VEIL_WRITE_CHAT_VECTORS") is { Length: > 0 } target)
        {
            System.IO.File.WriteAllText(target, produced.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
            return;
        }

        var expected = JsonNode.Parse(System.IO.File.ReadAllText(VectorFiles.SpecPath(File)))!;
        Assert.Equal(expected.ToJsonString(), produced.ToJsonString());
    }

    /// <summary>Deterministic test keys: private key i of a party = SHA-256(label || i).</summary>
    private static byte[] TestKey(string label, int i) => SHA256.HashData(System.Text.Encoding.ASCII.GetBytes($"veil chat vector {label} {i}"));

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    private sealed class KeySource(string label)
    {
        internal JsonArray Used { get; } = [];

        internal X25519PrivateKey Next()
        {
            var scalar = TestKey(label + " ephemeral", Used.Count);
            Used.Add(Hex(scalar));
            return X25519PrivateKey.Import(scalar);
        }
    }

    private sealed class Party : IChatPreKeys, IDisposable
    {
        internal Party(string name, uint registrationId)
        {
            Name = name;
            RegistrationId = registrationId;
            Account = ChatAccountKey.ImportSeed(TestKey(name + " account", 0));
            Device = new ChatDeviceKeys(Ed25519PrivateKey.ImportSeed(TestKey(name + " device signing", 0)), X25519PrivateKey.Import(TestKey(name + " identity", 0)));
            Certificate = Account.Certify(1, Device);
            var signedPreKey = X25519PrivateKey.Import(TestKey(name + " signed prekey", 0));
            SignedPreKey = new SignedPreKey(7, signedPreKey, Device.SigningKey.Sign(Veil.Crypto.Chat.SignedPreKey.SignedBytes(signedPreKey.PublicKey)));
            OneTime = X25519PrivateKey.Import(TestKey(name + " one-time prekey", 0));
            Keys = new KeySource(name);
        }

        internal string Name { get; }

        internal uint RegistrationId { get; }

        internal ChatAccountKey Account { get; }

        internal ChatDeviceKeys Device { get; }

        internal DeviceCertificate Certificate { get; }

        internal SignedPreKey SignedPreKey { get; }

        internal X25519PrivateKey OneTime { get; }

        internal KeySource Keys { get; }

        internal SessionRecord Record { get; } = new();

        X25519PrivateKey? IChatPreKeys.SignedPreKey(uint id) => id == 7 ? SignedPreKey.Key : null;

        public X25519PrivateKey? OneTimePreKey(uint id) => id == 100 ? OneTime : null;

        internal JsonObject Describe()
        {
            var seed = new byte[32];
            Account.ExportSeed(seed);
            var signingSeed = new byte[32];
            Device.SigningKey.ExportSeed(signingSeed);
            var identity = new byte[32];
            Device.IdentityKey.ExportPrivateKey(identity);
            var signedPreKey = new byte[32];
            SignedPreKey.Key.ExportPrivateKey(signedPreKey);
            var oneTime = new byte[32];
            OneTime.ExportPrivateKey(oneTime);
            return new JsonObject
            {
                ["registration_id"] = RegistrationId,
                ["device_id"] = 1,
                ["account_signing_seed"] = Hex(seed),
                ["account_signing_public"] = Hex(Account.PublicKey.Bytes),
                ["device_signing_seed"] = Hex(signingSeed),
                ["device_signing_public"] = Hex(Device.SigningKey.PublicKey.Bytes),
                ["identity_private"] = Hex(identity),
                ["identity_public"] = Hex(ChatPublicKey.Serialize(Device.IdentityKey.PublicKey)),
                ["device_certificate_signature"] = Hex(Certificate.Signature),
                ["signed_prekey_id"] = SignedPreKey.Id,
                ["signed_prekey_private"] = Hex(signedPreKey),
                ["signed_prekey_public"] = Hex(ChatPublicKey.Serialize(SignedPreKey.Key.PublicKey)),
                ["signed_prekey_signature"] = Hex(SignedPreKey.Signature),
                ["one_time_prekey_id"] = 100,
                ["one_time_prekey_private"] = Hex(oneTime),
                ["one_time_prekey_public"] = Hex(ChatPublicKey.Serialize(OneTime.PublicKey)),
            };
        }

        public void Dispose()
        {
            Record.Dispose();
            SignedPreKey.Dispose();
            OneTime.Dispose();
            Device.Dispose();
            Account.Dispose();
        }
    }

    private static JsonObject Produce()
    {
        using var alice = new Party("alice", 1111);
        using var bob = new Party("bob", 2222);
        var bundle = new PreKeyBundle(
            bob.RegistrationId, bob.Certificate, bob.SignedPreKey.Id, bob.SignedPreKey.Key.PublicKey, bob.SignedPreKey.Signature,
            new OneTimePreKeyPublic(100, bob.OneTime.PublicKey));
        Assert.Equal(ChatSessionStatus.Ok, SessionCipher.Initiate(alice.Record, alice.Device, alice.RegistrationId, bundle, bob.Account.PublicKey, alice.Keys.Next));

        var steps = new JsonArray();
        var sent = new List<(Party To, ChatCiphertext Message, string Text)>();
        void Send(Party from, Party to, string text)
        {
            var message = SessionCipher.Encrypt(from.Record, System.Text.Encoding.UTF8.GetBytes(text));
            sent.Add((to, message, text));
            steps.Add(new JsonObject
            {
                ["action"] = "send", ["from"] = from.Name, ["index"] = sent.Count - 1, ["plaintext_utf8"] = text,
                ["type"] = message.IsPreKey ? "prekey" : "signal", ["serialized"] = Hex(message.Serialized),
            });
        }

        void Receive(int index)
        {
            var (to, message, text) = sent[index];
            var result = message.IsPreKey
                ? SessionCipher.DecryptPreKey(to.Record, to.Device, to.RegistrationId, to, message.Serialized, null, to.Keys.Next)
                : SessionCipher.Decrypt(to.Record, message.Serialized, to.Keys.Next);
            Assert.Equal(ChatDecryptStatus.Ok, result.Status);
            Assert.Equal(text, System.Text.Encoding.UTF8.GetString(result.Plaintext!));
            steps.Add(new JsonObject { ["action"] = "receive", ["to"] = to.Name, ["index"] = index });
        }

        Send(alice, bob, "hello bob");
        Send(alice, bob, "");
        Receive(1);
        Receive(0);
        Send(bob, alice, "hello alice, this reply is long enough to need a second 160-byte padding block: " + new string('x', 100));
        Send(bob, alice, "second");
        Receive(3);
        Send(alice, bob, "after one ratchet step");
        Receive(4);
        Send(bob, alice, "b3");
        Receive(5);
        Receive(2);

        return new JsonObject
        {
            ["description"] = "Veil chat v3 session vector (spec/chat-wire.md): X3DH with a one-time prekey, then Double Ratchet messages "
                + "with out-of-order delivery. Produced by Veil.Crypto (tests/Veil.Crypto.Tests/Chat/ChatVectorTests.cs). "
                + "Test keys: SHA-256('veil chat vector <party> <purpose> <i>'). Each party's 'ephemeral_keys' are the X25519 "
                + "private keys it generates, in order: the initiator's base key, then its first sending ratchet key; then one "
                + "per ratchet step, at the first message received on a new chain.",
            ["alice"] = alice.Describe(),
            ["bob"] = bob.Describe(),
            ["alice_ephemeral_keys"] = alice.Keys.Used,
            ["bob_ephemeral_keys"] = bob.Keys.Used,
            ["steps"] = steps,
        };
    }
}
