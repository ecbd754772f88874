using System.Buffers;
using System.Text;
using System.Text.Json;
using Veil.Mail.Dkim;
using Xunit.Abstractions;

namespace Veil.Mail.Tests.Dkim;

/// <summary>dkimpy's canonicalization cases (tests/vectors/dkim/dkim_canonicalization_cases.json).</summary>
public sealed class DkimCanonicalizationVectorsTests(ITestOutputHelper output)
{
    private const string FileName = "dkim_canonicalization_cases.json";

    [Fact]
    public void Canonicalize_AllDkimpyCases_MatchAndAreIdempotent()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestFiles.Vectors("dkim", FileName)));
        var failures = new List<string>();
        int passed = 0;

        foreach (var (group, algorithm, isBody) in new[]
        {
            ("simple_body", DkimCanonicalization.Simple, true),
            ("relaxed_body", DkimCanonicalization.Relaxed, true),
            ("simple_headers", DkimCanonicalization.Simple, false),
            ("relaxed_headers", DkimCanonicalization.Relaxed, false),
        })
        {
            foreach (var testCase in doc.RootElement.GetProperty(group).EnumerateArray())
            {
                var name = $"{group}/{testCase.GetProperty("name").GetString()}";
                bool ok = isBody
                    ? CheckBody(algorithm, testCase.GetProperty("input").GetString()!, testCase.GetProperty("expected").GetString()!)
                    : CheckHeaders(algorithm, testCase.GetProperty("input"), testCase.GetProperty("expected"));
                if (ok)
                {
                    passed++;
                }
                else
                {
                    failures.Add(name);
                }
            }
        }

        Report(passed, 0);
        Assert.Empty(failures);
        Assert.Equal(17, passed);
    }

    [Fact]
    public void ParseCTag_DkimpyValidAndInvalidValues_AreClassified()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestFiles.Vectors("dkim", FileName)));
        var tags = doc.RootElement.GetProperty("c_tag_parsing");
        foreach (var valid in tags.GetProperty("valid").EnumerateObject())
        {
            string? value = valid.Name == "(absent)" ? null : valid.Name;
            Assert.True(DkimCanonicalizer.TryParseTag(value, out var header, out var body), valid.Name);
            var expected = valid.Value.EnumerateArray().Select(e => e.GetString()).ToArray();
            Assert.Equal(expected[0], header.ToString().ToLowerInvariant());
            Assert.Equal(expected[1], body.ToString().ToLowerInvariant());
        }

        foreach (var invalid in tags.GetProperty("invalid").EnumerateArray())
        {
            Assert.False(DkimCanonicalizer.TryParseTag(invalid.GetString(), out _, out _), invalid.GetString());
        }
    }

    private static bool CheckBody(DkimCanonicalization algorithm, string input, string expected)
    {
        var once = DkimCanonicalizer.Body(algorithm, Encoding.Latin1.GetBytes(input));
        var twice = DkimCanonicalizer.Body(algorithm, Encoding.Latin1.GetBytes(expected));
        return Encoding.Latin1.GetString(once) == expected && Encoding.Latin1.GetString(twice) == expected;
    }

    private static bool CheckHeaders(DkimCanonicalization algorithm, JsonElement input, JsonElement expected)
    {
        var inputs = input.EnumerateArray().Select(Pair).ToArray();
        var expecteds = expected.EnumerateArray().Select(Pair).ToArray();
        for (int i = 0; i < inputs.Length; i++)
        {
            var want = expecteds[i].Name + ":" + expecteds[i].Value;
            if (Canonical(algorithm, inputs[i]) != want || Canonical(algorithm, expecteds[i]) != want)
            {
                return false;
            }
        }

        return inputs.Length == expecteds.Length;
    }

    private static (string Name, string Value) Pair(JsonElement e)
        => (e[0].GetString()!, e[1].GetString()!);

    private static string Canonical(DkimCanonicalization algorithm, (string Name, string Value) field)
    {
        var buffer = new ArrayBufferWriter<byte>();
        DkimCanonicalizer.WriteHeader(algorithm, Encoding.Latin1.GetBytes(field.Name), Encoding.Latin1.GetBytes(field.Value), buffer);
        return Encoding.Latin1.GetString(buffer.WrittenSpan);
    }

    private void Report(int passed, int unsupported)
    {
        var line = $"Vectors {FileName}: {passed} passed, {unsupported} unsupported";
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
