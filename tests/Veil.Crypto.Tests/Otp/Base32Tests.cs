using System.Text;
using Veil.Crypto.Otp;

namespace Veil.Crypto.Tests.Otp;

public sealed class Base32Tests
{
    // RFC 4648 §10 test vectors, without their padding.
    [Theory]
    [InlineData("", "")]
    [InlineData("f", "MY")]
    [InlineData("fo", "MZXQ")]
    [InlineData("foo", "MZXW6")]
    [InlineData("foob", "MZXW6YQ")]
    [InlineData("fooba", "MZXW6YTB")]
    [InlineData("foobar", "MZXW6YTBOI")]
    public void EncodeAndDecode_Rfc4648Vectors_Reproduce(string text, string base32)
    {
        var bytes = Encoding.ASCII.GetBytes(text);

        Assert.Equal(base32, Base32.Encode(bytes));
        Assert.Equal(bytes, Base32.Decode(base32));
        Assert.Equal(bytes, Base32.Decode(base32.ToLowerInvariant()));
    }

    [Fact]
    public void Decode_RandomSecrets_RoundTrip()
    {
        for (var length = 0; length <= 64; length++)
        {
            var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(length);

            Assert.Equal(bytes, Base32.Decode(Base32.Encode(bytes)));
        }
    }

    [Theory]
    [InlineData("MY======")] // padding is not accepted
    [InlineData("M")] // length 1 mod 8 cannot come from whole bytes
    [InlineData("MZX")] // length 3 mod 8
    [InlineData("MZXW6Y")] // length 6 mod 8
    [InlineData("MZ")] // non-zero trailing bits: a second spelling of "f"
    [InlineData("MZXW 6")] // spaces
    [InlineData("MZXW1")] // 1 is not in the alphabet
    [InlineData("MZXW8")]
    public void Decode_NonCanonicalText_ReturnsNull(string text) => Assert.Null(Base32.Decode(text));
}
