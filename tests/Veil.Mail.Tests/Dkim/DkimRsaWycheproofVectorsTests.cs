using System.Security.Cryptography;
using System.Text.Json;
using Veil.Mail.Dkim;
using Xunit.Abstractions;

namespace Veil.Mail.Tests.Dkim;

/// <summary>Wycheproof RSASSA-PKCS1-v1_5 vectors through the RSA calls the DKIM signer and verifier use.</summary>
public sealed class DkimRsaWycheproofVectorsTests(ITestOutputHelper output)
{
    [Fact]
    public void Sign_WycheproofSigGen_MatchesExactly()
    {
        const string file = "rsa_pkcs1_2048_sig_gen_test.json";
        using var doc = JsonDocument.Parse(File.ReadAllText(TestFiles.Vectors("wycheproof", "testvectors_v1", file)));
        int passed = 0, unsupported = 0;
        var failures = new List<int>();
        foreach (var group in doc.RootElement.GetProperty("testGroups").EnumerateArray())
        {
            var hash = HashName(group.GetProperty("sha").GetString()!);
            using var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(Convert.FromHexString(group.GetProperty("privateKeyPkcs8").GetString()!), out _);
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                if (hash is null)
                {
                    unsupported++;
                    continue;
                }

                var signature = DkimRsa.Sign(rsa, Convert.FromHexString(test.GetProperty("msg").GetString()!), hash.Value);
                if (Convert.ToHexStringLower(signature) == test.GetProperty("sig").GetString())
                {
                    passed++;
                }
                else
                {
                    failures.Add(test.GetProperty("tcId").GetInt32());
                }
            }
        }

        Report(file, passed, unsupported);
        Assert.Empty(failures);
        Assert.True(passed >= 10);
    }

    [Fact]
    public void Verify_WycheproofSha256Signatures_AcceptValidRejectInvalid()
    {
        const string file = "rsa_signature_2048_sha256_test.json";
        using var doc = JsonDocument.Parse(File.ReadAllText(TestFiles.Vectors("wycheproof", "testvectors_v1", file)));
        int passed = 0;
        var failures = new List<int>();
        foreach (var group in doc.RootElement.GetProperty("testGroups").EnumerateArray())
        {
            using var rsa = DkimRsa.TryImportPublicKey(Convert.FromHexString(group.GetProperty("publicKeyDer").GetString()!));
            Assert.NotNull(rsa);
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                bool ok = DkimRsa.VerifySha256(rsa, Convert.FromHexString(test.GetProperty("msg").GetString()!), Convert.FromHexString(test.GetProperty("sig").GetString()!));
                var expected = test.GetProperty("result").GetString();
                if (expected == "acceptable" || ok == (expected == "valid"))
                {
                    passed++;
                }
                else
                {
                    failures.Add(test.GetProperty("tcId").GetInt32());
                }
            }
        }

        Report(file, passed, 0);
        Assert.Empty(failures);
    }

    // .NET has no SHA-224 for RSA signatures; DKIM only needs SHA-256.
    private static HashAlgorithmName? HashName(string sha) => sha switch
    {
        "SHA-1" => HashAlgorithmName.SHA1,
        "SHA-256" => HashAlgorithmName.SHA256,
        "SHA-384" => HashAlgorithmName.SHA384,
        "SHA-512" => HashAlgorithmName.SHA512,
        _ => null,
    };

    private void Report(string file, int passed, int unsupported)
    {
        var line = $"Vectors {file}: {passed} passed, {unsupported} unsupported";
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
