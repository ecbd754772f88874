// X25519 and Ed25519 vectors: Wycheproof x25519/ed25519, RFC 8032 §7.1, and C2SP CCTV Ed25519.
//
// CCTV ed25519vectors.json — libsodium 1.0.18's crypto_sign_verify_detached (Veil's verifier) is
// expected to REJECT a vector iff it carries any of these flags, and ACCEPT it otherwise:
//   low_order_A        small-order public key (blocklist check on A)
//   low_order_R        small-order R (blocklist check on R)
//   non_canonical_A    A with y ≥ p or x = −0 (ge25519_is_canonical on A)
//   non_canonical_R    R compared by canonical re-encoding, so a non-canonical R never matches
//   low_order_residue  cofactorless equation: uncancelled low-order components fail
// Accepted: vectors whose only flags are low_order_component_A / low_order_component_R (mixed-order
// points cannot be blocklisted) and reencoded_k (which only occurs with a non-canonical point).
// The same rule is written down in spec/keys.md ("Ed25519 verification rules").
using Veil.Crypto.Primitives;
using Xunit.Abstractions;

namespace Veil.Crypto.Tests;

public sealed class CurveVectors(ITestOutputHelper output)
{
    private static readonly string[] RejectedFlags = ["low_order_A", "low_order_R", "non_canonical_A", "non_canonical_R", "low_order_residue"];

    [Fact]
    public void WycheproofX25519_AllVectorsBehaveAsExpected()
    {
        const string file = "x25519_test.json";
        using var document = VectorFiles.Json("wycheproof/testvectors_v1/" + file);
        int passed = 0, acceptableRejected = 0;
        foreach (var (_, test) in VectorFiles.WycheproofTests(document))
        {
            using var privateKey = X25519PrivateKey.Import(test.Hex("private"));
            var peer = X25519PublicKey.Import(test.Hex("public"));
            var expected = test.Hex("shared");
            var agreed = X25519.TryAgree(privateKey, peer, out var secret);
            using (secret)
            {
                if (expected.All(b => b == 0))
                {
                    // Low-order peer: Veil refuses (RFC 7748 §6.1 check), whatever the vector's verdict.
                    Assert.False(agreed, $"{file} {test.Id()}: all-zero shared secret accepted");
                    acceptableRejected++;
                }
                else
                {
                    // valid and the remaining "acceptable" cases (twist points, non-canonical u) are computed per RFC 7748.
                    Assert.True(agreed, $"{file} {test.Id()}");
                    var actual = new byte[32];
                    secret!.CopyTo(actual);
                    Assert.Equal(expected, actual);
                }
            }

            passed++;
        }

        VectorFiles.Report(output, file, passed, 0, $"{acceptableRejected} acceptable all-zero results rejected by design");
    }

    [Fact]
    public void WycheproofEd25519_AllVectorsBehaveAsExpected()
    {
        const string file = "ed25519_test.json";
        using var document = VectorFiles.Json("wycheproof/testvectors_v1/" + file);
        int passed = 0;
        foreach (var (group, test) in VectorFiles.WycheproofTests(document))
        {
            var publicKey = Ed25519PublicKey.Import(Convert.FromHexString(group.GetProperty("publicKey").GetProperty("pk").GetString()!));
            var verified = publicKey.Verify(test.Hex("msg"), test.Hex("sig"));
            Assert.True(verified == (test.Result() == "valid"), $"{file} {test.Id()}: expected {test.Result()}");
            passed++;
        }

        VectorFiles.Report(output, file, passed, 0);
    }

    [Fact]
    public void Rfc8032Section71_KeysAndSignaturesReproduce()
    {
        const string file = "rfc/rfc8032_ed25519_section7_1.json";
        using var document = VectorFiles.Json(file);
        var passed = 0;
        foreach (var vector in document.RootElement.GetProperty("vectors").EnumerateArray())
        {
            using var key = Ed25519PrivateKey.ImportSeed(vector.Hex("secret_key"));
            var message = vector.Hex("message");
            Assert.Equal(vector.Hex("public_key"), key.PublicKey.ToArray());
            Assert.Equal(vector.Hex("signature"), key.Sign(message));
            Assert.True(key.PublicKey.Verify(message, vector.Hex("signature")));
            passed++;
        }

        VectorFiles.Report(output, file, passed, 0);
        Assert.Equal(4, passed);
    }

    [Fact]
    public void CctvEd25519_Libsodium1018VerdictPerFlag()
    {
        const string file = "cctv/ed25519/ed25519vectors.json";
        using var document = VectorFiles.Json(file);
        int passed = 0, accepted = 0, rejected = 0;
        var mismatches = new List<string>();
        foreach (var vector in document.RootElement.EnumerateArray())
        {
            var flags = vector.TryGetProperty("flags", out var f) && f.ValueKind == System.Text.Json.JsonValueKind.Array
                ? f.EnumerateArray().Select(x => x.GetString()!).ToArray()
                : [];
            var expectAccept = !flags.Any(RejectedFlags.Contains);
            var publicKey = Ed25519PublicKey.Import(vector.Hex("key"));
            var verified = publicKey.Verify(System.Text.Encoding.UTF8.GetBytes(vector.GetProperty("msg").GetString()!), vector.Hex("sig"));
            if (verified != expectAccept)
            {
                mismatches.Add($"#{vector.GetProperty("number").GetInt32()} [{string.Join(',', flags)}] verified={verified}");
            }

            if (verified)
            {
                accepted++;
            }
            else
            {
                rejected++;
            }

            passed++;
        }

        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches.Take(20)) + $"\n({mismatches.Count} mismatches)");
        VectorFiles.Report(output, file, passed, 0, $"{accepted} accepted, {rejected} rejected");
    }
}
