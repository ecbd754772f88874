using System.Text.Json;
using Veil.Mail.Dkim;
using Xunit.Abstractions;

namespace Veil.Mail.Tests.Dkim;

/// <summary>Veil verifies the signed messages of dkimpy's test data (see Dkim/dkimpy_expected.json).</summary>
public sealed class DkimpyMessagesVectorsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Verify_DkimpySignedMessages_GiveDkimpysResults()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestFiles.Project("Dkim", "dkimpy_expected.json")));
        var records = doc.RootElement.GetProperty("keys").EnumerateObject().ToDictionary(
            p => p.Name,
            p => p.Value.GetString()!.StartsWith('@')
                ? File.ReadAllText(TestFiles.Vectors("dkim", "dkimpy_data", p.Value.GetString()![1..])).Trim()
                : p.Value.GetString()!);
        var verifier = new DkimVerifier(new StaticKeyResolver(records), new FixedTimeProvider(new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero)));
        int passed = 0, unsupported = 0;
        var failures = new List<string>();

        foreach (var testCase in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var file = testCase.GetProperty("file").GetString()!;
            var expected = testCase.GetProperty("expected").GetString()!;
            if (expected == "unsupported")
            {
                unsupported++;
                continue;
            }

            var message = TestFiles.ReadCrlf(TestFiles.Vectors("dkim", "dkimpy_data", file));
            var results = await verifier.VerifyAsync(message, CancellationToken.None);
            var result = results[testCase.GetProperty("index").GetInt32()];
            if (result.Status.ToString() == expected && result.Reason.ToString() == testCase.GetProperty("reason").GetString())
            {
                passed++;
            }
            else
            {
                failures.Add($"{file}#{testCase.GetProperty("index").GetInt32()}: {result.Status} {result.Reason}");
            }
        }

        var line = $"Vectors dkimpy_data: {passed} passed, {unsupported} unsupported";
        output.WriteLine(line);
        Console.WriteLine(line);
        Assert.Empty(failures);
        Assert.True(passed >= 3);
    }

    [Fact]
    public async Task Verify_Rfc8463Example_BothSignaturesPass()
    {
        var records = new Dictionary<string, string>
        {
            ["brisbane._domainkey.football.example.com"] = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
            ["test._domainkey.football.example.com"] = File.ReadAllText(TestFiles.Vectors("dkim", "dkimpy_data", "test.txt")).Trim(),
        };
        var verifier = new DkimVerifier(new StaticKeyResolver(records), TimeProvider.System);

        var results = await verifier.VerifyAsync(TestFiles.ReadCrlf(TestFiles.Vectors("dkim", "dkimpy_data", "rfc6376.signed.msg")), CancellationToken.None);

        Assert.Equal(2, results.Count);
        Assert.Equal(("ed25519-sha256", DkimVerificationStatus.Pass), (results[0].Algorithm, results[0].Status));
        Assert.Equal(("rsa-sha256", DkimVerificationStatus.Pass), (results[1].Algorithm, results[1].Status));
    }
}
