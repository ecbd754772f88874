// Veil's Double Ratchet rate, measured like tests/oracle/libsignal/bench.mjs measures libsignal's: one
// established session, then N encrypts by Alice and N in-order decrypts by Bob of a 100-byte message, then
// N/10 X3DH responder runs, N/10 sealed-sender seals and opens, N sender-key encrypts and decrypts. Prints
// {"encrypt_per_s","decrypt_per_s","x3dh_responder_per_s","sealed_seal_per_s","sealed_open_per_s","group_encrypt_per_s","group_decrypt_per_s"}.
// Usage: Veil.ChatBench [N] | Veil.ChatBench --parts [count] (the responder's building blocks, µs each)
using System.Diagnostics;
using Veil.Crypto.Chat;
using Veil.Crypto.Primitives;

var responderOnly = args is ["--responder", ..]; // only the responder loop below, for a profiler
if (responderOnly)
{
    args = args[1..];
}

if (args is ["--parts", ..])
{
    Parts(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2000);
    return;
}

var n = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 20_000;
using var aliceAccount = ChatAccountKey.Generate();
using var bobAccount = ChatAccountKey.Generate();
using var alice = ChatDeviceKeys.Generate();
using var bob = ChatDeviceKeys.Generate();
using var signedPreKey = bob.CreateSignedPreKey(1);
using var aliceRecord = new SessionRecord();
using var bobRecord = new SessionRecord();
var preKeys = new OnePreKey(signedPreKey);
var bundle = new PreKeyBundle(2, bobAccount.Certify(1, bob), 1, signedPreKey.Key.PublicKey, signedPreKey.Signature, null);
Check(SessionCipher.Initiate(aliceRecord, alice, 1, bundle, bobAccount.PublicKey) == ChatSessionStatus.Ok);
Check(SessionCipher.DecryptPreKey(bobRecord, bob, 2, preKeys, SessionCipher.Encrypt(aliceRecord, new byte[100]).Serialized).Status == ChatDecryptStatus.Ok);
Check(SessionCipher.Decrypt(aliceRecord, SessionCipher.Encrypt(bobRecord, new byte[100]).Serialized).Status == ChatDecryptStatus.Ok);

var plaintext = new byte[100];
var messages = new byte[responderOnly ? 1 : n][];
var clock = Stopwatch.StartNew();
for (var i = 0; i < messages.Length; i++)
{
    messages[i] = SessionCipher.Encrypt(aliceRecord, plaintext).Serialized;
}

var encrypt = clock.Elapsed;
clock.Restart();
foreach (var message in messages)
{
    Check(SessionCipher.Decrypt(bobRecord, message).Status == ChatDecryptStatus.Ok);
}

var decrypt = clock.Elapsed;

// X3DH responder: N/10 fresh first messages (each its own base key), then Bob's DecryptPreKey of each.
var m = Math.Max(1, n / 10);
var firsts = new byte[m][];
for (var i = 0; i < m; i++)
{
    using var fresh = new SessionRecord();
    Check(SessionCipher.Initiate(fresh, alice, 1, bundle, bobAccount.PublicKey) == ChatSessionStatus.Ok);
    firsts[i] = SessionCipher.Encrypt(fresh, plaintext).Serialized;
}

using var responder = new SessionRecord();
clock.Restart();
foreach (var first in firsts)
{
    Check(SessionCipher.DecryptPreKey(responder, bob, 2, preKeys, first).Status == ChatDecryptStatus.Ok);
}

var x3dh = clock.Elapsed;
if (responderOnly)
{
    Console.WriteLine($"{{\"x3dh_responder_per_s\":{Math.Round(m / x3dh.TotalSeconds)}}}");
    return;
}

// Sealed sender v1: m seals (Alice to Bob) of a SignalMessage with a sender certificate, then Bob's m opens.
using var trustRoot = Ed25519PrivateKey.Generate();
using var serverKey = Ed25519PrivateKey.Generate();
var senderCertificate = ChatSenderCertificate.Issue(
    serverKey, ChatSenderCertificate.IssueServerCertificate(trustRoot, 1, serverKey.PublicKey), "alice", 1, alice.IdentityKey.PublicKey, DateTimeOffset.UtcNow.AddHours(1));
var content = new SealedContent(SealedContentType.Message, senderCertificate, messages[0]);
var envelopes = new byte[m][];
clock.Restart();
for (var i = 0; i < m; i++)
{
    envelopes[i] = SealedSender.Seal(alice.IdentityKey, bob.IdentityKey.PublicKey, content)!;
}

var seal = clock.Elapsed;
clock.Restart();
foreach (var envelope in envelopes)
{
    Check(SealedSender.Open(bob.IdentityKey, envelope) is not null);
}

var open = clock.Elapsed;

// Sender keys: N group encrypts by Alice of a 100-byte message, then N in-order decrypts by a member.
var group = Guid.NewGuid();
using var ownGroup = new SenderKeyRecord();
using var memberGroup = new SenderKeyRecord();
Check(GroupCipher.ProcessDistribution(memberGroup, GroupCipher.CreateDistribution(ownGroup, group)));
var groupMessages = new byte[n][];
clock.Restart();
for (var i = 0; i < n; i++)
{
    groupMessages[i] = GroupCipher.Encrypt(ownGroup, group, plaintext);
}

var groupEncrypt = clock.Elapsed;
clock.Restart();
foreach (var message in groupMessages)
{
    Check(GroupCipher.Decrypt(memberGroup, message).Status == ChatDecryptStatus.Ok);
}

var groupDecrypt = clock.Elapsed;
Console.WriteLine(
    $"{{\"encrypt_per_s\":{Math.Round(n / encrypt.TotalSeconds)},\"decrypt_per_s\":{Math.Round(n / decrypt.TotalSeconds)},\"x3dh_responder_per_s\":{Math.Round(m / x3dh.TotalSeconds)},"
    + $"\"sealed_seal_per_s\":{Math.Round(m / seal.TotalSeconds)},\"sealed_open_per_s\":{Math.Round(m / open.TotalSeconds)},"
    + $"\"group_encrypt_per_s\":{Math.Round(n / groupEncrypt.TotalSeconds)},\"group_decrypt_per_s\":{Math.Round(n / groupDecrypt.TotalSeconds)}}}");

// The X3DH responder's building blocks, each timed alone (µs per call), to see where its time goes.
static void Parts(int count)
{
    using var a = X25519PrivateKey.Generate();
    using var b = X25519PrivateKey.Generate();
    Span<byte> raw = stackalloc byte[32];
    a.ExportPrivateKey(raw);
    Time("X25519PrivateKey.Generate", count, () => X25519PrivateKey.Generate().Dispose());
    var copy = raw.ToArray();
    Time("X25519PrivateKey.Import", count, () => X25519PrivateKey.Import(copy).Dispose());
    Time("X25519.TryAgree", count, () =>
    {
        X25519.TryAgree(a, b.PublicKey, out var shared);
        shared!.Dispose();
    });
    Time("Veil.Crypto.Memory.SecretBytes.Random(32)", count, () => Veil.Crypto.Memory.SecretBytes.Random(32).Dispose());
    using var signer = Ed25519PrivateKey.Generate();
    var signed = new byte[200];
    var signature = signer.Sign(signed);
    Time("Ed25519 sign (200 bytes)", count, () => signer.Sign(signed));
    Time("Ed25519 verify (200 bytes)", count, () => Check(signer.PublicKey.Verify(signed, signature)));
}

static void Time(string name, int count, Action action)
{
    for (var i = 0; i < count / 10; i++)
    {
        action();
    }

    var clock = Stopwatch.StartNew();
    for (var i = 0; i < count; i++)
    {
        action();
    }

    Console.WriteLine($"{name}: {clock.Elapsed.TotalMicroseconds / count:F1} µs");
}

static void Check(bool ok)
{
    if (!ok)
    {
        throw new InvalidOperationException("The benchmark session failed.");
    }
}

internal sealed class OnePreKey(SignedPreKey signed) : IChatPreKeys
{
    public X25519PrivateKey? SignedPreKey(uint id) => id == signed.Id ? signed.Key : null;

    public X25519PrivateKey? OneTimePreKey(uint id) => null;
}
