// Veil's Double Ratchet rate, measured like tests/oracle/libsignal/bench.mjs measures libsignal's: one
// established session, then N encrypts by Alice and N in-order decrypts by Bob of a 100-byte message, then
// N/10 X3DH responder runs. Prints {"encrypt_per_s","decrypt_per_s","x3dh_responder_per_s"}. Usage: Veil.ChatBench [N]
using System.Diagnostics;
using Veil.Crypto.Chat;
using Veil.Crypto.Primitives;

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
var messages = new byte[n][];
var clock = Stopwatch.StartNew();
for (var i = 0; i < n; i++)
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
Console.WriteLine(
    $"{{\"encrypt_per_s\":{Math.Round(n / encrypt.TotalSeconds)},\"decrypt_per_s\":{Math.Round(n / decrypt.TotalSeconds)},\"x3dh_responder_per_s\":{Math.Round(m / x3dh.TotalSeconds)}}}");

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
