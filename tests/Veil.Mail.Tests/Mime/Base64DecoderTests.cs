// The vectorised base64 decoder (TransferEncodingCodec.DecodeBase64) against two references:
//   - System.Convert on clean input (the standard decoder; MIME line breaks are whitespace it skips), and
//   - ReferenceDecode below, the byte-at-a-time decoder Veil used before, which is the behavioural definition
//     (RFC 2045 §6.8: characters outside the alphabet are ignored), on random, malformed and hostile input:
//     garbage characters, padding in the middle, missing or extra padding, whitespace anywhere, every length.
// Both the bytes and the "clean" flag must be identical.
using System.Text;
using Veil.Mail.Mime;

namespace Veil.Mail.Tests.Mime;

public sealed class Base64DecoderTests
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    public static TheoryData<string> MalformedInputs() =>
    [
        string.Empty,
        "=",
        "====",
        "Q",
        "QQ",
        "QQ=",
        "QQ==",
        "QUI=",
        "QUJD",
        "QUJDRA",
        "QUJDRA=",
        "QQ==QQ==",
        "QU=JD",
        "aGVs!!bG8g\r\nd29y*bGQ= ignored?",
        "aGVsbG8g\nd29ybGQ=\n",
        " \t\r\n",
        "\u00ff\u0080\u0000QUJD",
        "QUJD\r\n-- \r\nQUJD",
        "Q\r\nU\r\nJ\r\nD",
        "QUJD=\r\n\r\nQUJD",
        "Zm9vYmFy\r\n.\r\n",
    ];

    [Theory]
    [MemberData(nameof(MalformedInputs))]
    public void DecodeBase64_MalformedInput_SameBytesAndCleanFlagAsReference(string text)
    {
        var input = Encoding.Latin1.GetBytes(text);

        var actual = TransferEncodingCodec.DecodeBase64(input, out var clean);
        var expected = ReferenceDecode(input, out var expectedClean);

        Assert.Equal(expected, actual);
        Assert.Equal(expectedClean, clean);
    }

    [Fact]
    public void DecodeBase64_CleanMimeBodiesOfEveryLength_EqualsConvertAndIsClean()
    {
        var random = new Random(1501);
        for (var length = 0; length < 600; length++)
        {
            var payload = new byte[length];
            random.NextBytes(payload);
            var encoded = TransferEncodingCodec.EncodeBase64(payload, length % 2 == 0 ? "\r\n" : "\n");

            var decoded = TransferEncodingCodec.DecodeBase64(encoded, out var clean);

            Assert.Equal(Convert.FromBase64String(Encoding.ASCII.GetString(encoded)), decoded);
            Assert.Equal(payload, decoded);
            Assert.True(clean, $"length {length}");
        }
    }

    [Fact]
    public void DecodeBase64_RandomMutations_SameBytesAndCleanFlagAsReference()
    {
        // Valid bodies with bytes inserted, deleted and overwritten by a mix of garbage, whitespace, '=' and data.
        var random = new Random(1502);
        const string noise = "= \t\r\n!*-.:?\u0080\u00ff\u0000";
        for (var round = 0; round < 3000; round++)
        {
            var payload = new byte[random.Next(0, 400)];
            random.NextBytes(payload);
            var input = new List<byte>(TransferEncodingCodec.EncodeBase64(payload, "\r\n"));
            var edits = random.Next(0, 8);
            for (var e = 0; e < edits; e++)
            {
                var pool = random.Next(3) == 0 ? Alphabet : noise;
                var b = (byte)pool[random.Next(pool.Length)];
                var at = random.Next(input.Count + 1);
                switch (random.Next(3))
                {
                    case 0:
                        input.Insert(at, b);
                        break;
                    case 1 when at < input.Count:
                        input.RemoveAt(at);
                        break;
                    default:
                        if (at < input.Count)
                        {
                            input[at] = b;
                        }

                        break;
                }
            }

            var bytes = input.ToArray();
            var actual = TransferEncodingCodec.DecodeBase64(bytes, out var clean);
            var expected = ReferenceDecode(bytes, out var expectedClean);

            Assert.Equal(expected, actual);
            Assert.Equal(expectedClean, clean);
        }
    }

    [Fact]
    public void DecodeBase64_RandomBytes_SameBytesAndCleanFlagAsReference()
    {
        var random = new Random(1503);
        for (var round = 0; round < 2000; round++)
        {
            var bytes = new byte[random.Next(0, 300)];
            random.NextBytes(bytes);

            var actual = TransferEncodingCodec.DecodeBase64(bytes, out var clean);
            var expected = ReferenceDecode(bytes, out var expectedClean);

            Assert.Equal(expected, actual);
            Assert.Equal(expectedClean, clean);
        }
    }

    /// <summary>The byte-at-a-time decoder (Veil's until the vectorised one replaced it): the behaviour to keep.</summary>
    private static byte[] ReferenceDecode(ReadOnlySpan<byte> input, out bool clean)
    {
        clean = true;
        var output = new List<byte>();
        int bits = 0, buffer = 0;
        var padded = false;
        foreach (var b in input)
        {
            var v = Alphabet.IndexOf((char)b, StringComparison.Ordinal);
            if (v < 0)
            {
                if (b == (byte)'=')
                {
                    padded = true;
                }
                else if (b is not ((byte)'\r' or (byte)'\n' or (byte)' ' or (byte)'\t'))
                {
                    clean = false;
                }

                continue;
            }

            if (padded)
            {
                clean = false;
                padded = false;
            }

            buffer = (buffer << 6) | v;
            bits += 6;
            if (bits >= 8)
            {
                bits -= 8;
                output.Add((byte)(buffer >> bits));
                buffer &= (1 << bits) - 1;
            }
        }

        if (bits >= 6)
        {
            clean = false;
        }

        return [.. output];
    }
}
