// RFC 4226 Appendix D (HOTP, rfc4226_hotp.json) and RFC 6238 Appendix B (TOTP, rfc6238_totp.txt).
using System.Globalization;
using System.Text;
using Veil.Crypto.Otp;
using Xunit.Abstractions;

namespace Veil.Crypto.Tests.Otp;

public sealed class OtpVectors(ITestOutputHelper output)
{
    [Fact]
    public void Rfc4226Hotp_AllValuesReproduceAndVerify()
    {
        const string file = "rfc/rfc4226_hotp.json";
        using var document = VectorFiles.Json(file);
        var root = document.RootElement;
        var secret = Encoding.ASCII.GetBytes(root.GetProperty("secret_ascii").GetString()!);
        var digits = root.GetProperty("digits").GetInt32();
        var passed = 0;
        foreach (var vector in root.GetProperty("vectors").EnumerateArray())
        {
            var counter = vector.GetProperty("counter").GetInt64();
            var expected = vector.GetProperty("hotp").GetString()!;

            Assert.Equal(expected, Hotp.Generate(secret, counter, digits));
            Assert.True(Hotp.Verify(secret, counter, expected, digits), $"{file} counter {counter}");
            Assert.False(Hotp.Verify(secret, counter + 1, expected, digits), $"{file} counter {counter} + 1");
            passed++;
        }

        VectorFiles.Report(output, file, passed, 0);
        Assert.Equal(10, passed);
    }

    [Fact]
    public void Rfc6238Totp_AllVectorsReproduceAndVerify()
    {
        const string file = "rfc/rfc6238_totp.txt";
        var passed = 0;
        foreach (var record in VectorFiles.KeyValueRecords(file))
        {
            // The SECRET field is the ASCII string itself, not hex (see the file's header).
            var secret = Encoding.ASCII.GetBytes(record["SECRET"]);
            var algorithm = record["MODE"] switch
            {
                "SHA1" => OtpAlgorithm.Sha1,
                "SHA256" => OtpAlgorithm.Sha256,
                "SHA512" => OtpAlgorithm.Sha512,
                var mode => throw new InvalidDataException($"{file} COUNT {record["COUNT"]}: unknown MODE {mode}"),
            };
            var expected = record["TOTP"];
            var parameters = new TotpParameters(algorithm, expected.Length, 30);
            var now = DateTimeOffset.FromUnixTimeSeconds(long.Parse(record["TIME"], CultureInfo.InvariantCulture));

            Assert.Equal(expected, Totp.Generate(secret, now, parameters));
            Assert.Equal(Totp.TimeStep(now), Totp.Verify(secret, expected, now, lastUsedStep: null, window: 0, parameters));
            passed++;
        }

        VectorFiles.Report(output, file, passed, 0);
        Assert.Equal(18, passed);
    }
}
