// Argon2id vectors: RFC 9106 §5.3 + pyca/argon2-CLI cases, and the 64 MiB t=3 cross-checked file.
using System.Globalization;
using Veil.Crypto.Primitives;
using Xunit.Abstractions;

namespace Veil.Crypto.Tests;

public sealed class Argon2Vectors(ITestOutputHelper output)
{
    [Theory]
    [InlineData("rfc/argon2id_rfc9106_and_cli.txt")]
    [InlineData("rfc/argon2id_m64MiB_t3_crosschecked.txt")]
    public void Argon2idFile_AllCasesReproduce(string file)
    {
        var passed = 0;
        foreach (var record in VectorFiles.KeyValueRecords(file))
        {
            var parameters = new Argon2Parameters(Int(record, "memcost"), Int(record, "iter"), Int(record, "lanes"));
            var result = new byte[Int(record, "length")];
            Argon2id.DeriveBytes(
                Hex(record, "pass"), Hex(record, "salt"), parameters, result, Hex(record, "secret"), Hex(record, "ad"));
            Assert.Equal(Hex(record, "output"), result);
            passed++;
        }

        VectorFiles.Report(output, file, passed, 0);
        Assert.True(passed >= 3);
    }

    private static int Int(Dictionary<string, string> record, string key) => int.Parse(record[key], CultureInfo.InvariantCulture);

    private static byte[] Hex(Dictionary<string, string> record, string key) =>
        record.TryGetValue(key, out var value) ? Convert.FromHexString(value) : [];
}
