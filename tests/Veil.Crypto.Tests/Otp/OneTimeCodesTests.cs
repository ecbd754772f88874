using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Veil.Crypto.Otp;

namespace Veil.Crypto.Tests.Otp;

public sealed partial class OneTimeCodesTests
{
    // Chi-square bounds with P(false alarm) below 1e-10 for uniform symbols (df 61: 8.1e-11; df 31: 9.0e-11).
    private const double BackupChiSquareBound = 160;
    private const double RecoveryChiSquareBound = 110;

    [GeneratedRegex("^[0-9A-Za-z]{5}-[0-9A-Za-z]{11}$")]
    private static partial Regex BackupCodeFormat();

    [GeneratedRegex("^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$")]
    private static partial Regex RecoveryCodeFormat();

    [Fact]
    public void GenerateBackupCodes_Default_EightDistinctCodesInTheDocumentedFormat()
    {
        var codes = OneTimeCodes.GenerateBackupCodes();

        Assert.Equal(8, codes.Count);
        Assert.Equal(8, codes.Distinct(StringComparer.Ordinal).Count());
        Assert.All(codes, code => Assert.Matches(BackupCodeFormat(), code));
        Assert.All(codes, code => Assert.Equal(OneTimeCodes.BackupCodeLength, code.Length));
    }

    [Fact]
    public void GenerateRecoveryCodes_Default_TenDistinctCodesInTheDocumentedFormat()
    {
        var codes = OneTimeCodes.GenerateRecoveryCodes();

        Assert.Equal(10, codes.Count);
        Assert.Equal(10, codes.Distinct(StringComparer.Ordinal).Count());
        Assert.All(codes, code => Assert.Matches(RecoveryCodeFormat(), code));
        Assert.All(codes, code => Assert.Equal(OneTimeCodes.RecoveryCodeLength, code.Length));
    }

    [Fact]
    public void Alphabets_HaveTheDocumentedEntropy()
    {
        Assert.Equal(62, OneTimeCodes.BackupCodeAlphabet.Distinct().Count());
        Assert.Equal(32, OneTimeCodes.RecoveryCodeAlphabet.Distinct().Count());
        Assert.True(OneTimeCodes.BackupCodeSymbols * Math.Log2(62) >= 95);
        Assert.True(OneTimeCodes.RecoveryCodeSymbols * Math.Log2(32) >= 80);
        Assert.DoesNotContain(OneTimeCodes.RecoveryCodeAlphabet, c => c is 'I' or 'L' or 'O' or 'U');
    }

    [Fact]
    public void GenerateBackupCode_ManySamples_SymbolsAreUniform()
    {
        var counts = new long[62];
        for (var i = 0; i < 20_000; i++)
        {
            foreach (var c in OneTimeCodes.GenerateBackupCode().Replace("-", string.Empty, StringComparison.Ordinal))
            {
                counts[OneTimeCodes.BackupCodeAlphabet.IndexOf(c, StringComparison.Ordinal)]++;
            }
        }

        Assert.InRange(ChiSquare(counts), 0, BackupChiSquareBound);
    }

    [Fact]
    public void GenerateRecoveryCode_ManySamples_SymbolsAreUniform()
    {
        var counts = new long[32];
        for (var i = 0; i < 10_000; i++)
        {
            foreach (var c in OneTimeCodes.GenerateRecoveryCode().Replace("-", string.Empty, StringComparison.Ordinal))
            {
                counts[OneTimeCodes.RecoveryCodeAlphabet.IndexOf(c, StringComparison.Ordinal)]++;
            }
        }

        Assert.InRange(ChiSquare(counts), 0, RecoveryChiSquareBound);
    }

    [Fact]
    public void ChiSquareBound_ModuloBiasedSampler_WouldFail()
    {
        // The same sample size drawn as byte % 62 (symbols 0–7 get 5/256 instead of 4/256):
        // the statistic lands in the thousands, so the uniformity test above can fail.
        var counts = new long[62];
        var bytes = RandomNumberGenerator.GetBytes(20_000 * 16);
        foreach (var b in bytes)
        {
            counts[b % 62]++;
        }

        Assert.True(ChiSquare(counts) > BackupChiSquareBound);
    }

    [Fact]
    public void Sample_EveryByteValueOnce_EachSymbolExactlyFourTimesAndTheTailRejected()
    {
        var next = 0;
        var output = new char[249];

        OneTimeCodes.Sample(OneTimeCodes.BackupCodeAlphabet, output, buffer =>
        {
            for (var i = 0; i < buffer.Length; i++)
            {
                buffer[i] = (byte)next++;
            }
        });

        // Bytes 0–247 give each of the 62 symbols exactly 4 times; 248–255 are discarded, so the 249th
        // symbol comes from the next byte 0.
        Assert.All(output[..248].GroupBy(c => c), group => Assert.Equal(4, group.Count()));
        Assert.Equal(62, output[..248].Distinct().Count());
        Assert.Equal('0', output[248]);
        Assert.Equal(256 + 64, next);
    }

    [Fact]
    public void Sample_OnlyRejectedBytesAtFirst_KeepsDrawing()
    {
        var calls = 0;
        var output = new char[1];

        OneTimeCodes.Sample(OneTimeCodes.BackupCodeAlphabet, output, buffer =>
        {
            buffer.Fill(calls++ < 3 ? (byte)255 : (byte)61);
        });

        Assert.Equal('z', output[0]);
        Assert.Equal(4, calls);
    }

    [Fact]
    public void GenerateBackupCode_TenThousand_AllDistinct()
    {
        var codes = Enumerable.Range(0, 10_000).Select(_ => OneTimeCodes.GenerateBackupCode());

        Assert.Equal(10_000, codes.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void NormalizeBackupCode_GeneratedCodes_RoundTrip()
    {
        foreach (var code in OneTimeCodes.GenerateBackupCodes(50))
        {
            Assert.Equal(code, OneTimeCodes.NormalizeBackupCode(code));
            Assert.Equal(code, OneTimeCodes.NormalizeBackupCode(code.Replace("-", string.Empty, StringComparison.Ordinal)));
            Assert.Equal(code, OneTimeCodes.NormalizeBackupCode(" " + string.Join(' ', code.Chunk(4).Select(c => new string(c))) + "\r\n"));
        }
    }

    [Theory]
    [InlineData("aB3dE-fGh1JkLmN0p", "aB3dE-fGh1JkLmN0p")]
    [InlineData("aB3dEfGh1JkLmN0p", "aB3dE-fGh1JkLmN0p")]
    [InlineData("aB3d-EfGh-1JkL-mN0p", "aB3dE-fGh1JkLmN0p")]
    [InlineData("\taB3dE fGh1J kLmN0p\n", "aB3dE-fGh1JkLmN0p")]
    public void NormalizeBackupCode_SeparatorsAnywhere_GiveTheCanonicalForm(string typed, string canonical)
    {
        Assert.Equal(canonical, OneTimeCodes.NormalizeBackupCode(typed));
    }

    [Fact]
    public void NormalizeBackupCode_CaseIsSignificant()
    {
        Assert.Equal("AB3DE-FGH1JKLMN0P", OneTimeCodes.NormalizeBackupCode("AB3DE-FGH1JKLMN0P"));
        Assert.NotEqual(OneTimeCodes.HashBackupCode("aB3dE-fGh1JkLmN0p"), OneTimeCodes.HashBackupCode("AB3DE-FGH1JKLMN0P"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("aB3dE-fGh1JkLmN0")] // 15 symbols
    [InlineData("aB3dE-fGh1JkLmN0pq")] // 17 symbols
    [InlineData("aB3dE_fGh1JkLmN0p")]
    [InlineData("aB3dE–fGh1JkLmN0p")] // en dash
    [InlineData("aB3dE-fGh1JkLmN0é")]
    [InlineData("aB3dE-fGh1JkLmN0p!")]
    public void NormalizeBackupCode_NotACode_ReturnsNull(string typed)
    {
        Assert.Null(OneTimeCodes.NormalizeBackupCode(typed));
        Assert.Null(OneTimeCodes.HashBackupCode(typed));
    }

    [Fact]
    public void HashBackupCode_IsSha256OfTheCanonicalForm()
    {
        var hash = OneTimeCodes.HashBackupCode("aB3dE fGh1JkLmN0p");

        Assert.Equal(SHA256.HashData("aB3dE-fGh1JkLmN0p"u8), hash);
        Assert.True(OneTimeCodes.BackupCodeMatches("aB3dEfGh1JkLmN0p", hash));
        Assert.False(OneTimeCodes.BackupCodeMatches("aB3dEfGh1JkLmN0q", hash));
        Assert.False(OneTimeCodes.BackupCodeMatches("not a code", hash));
    }

    [Fact]
    public void NormalizeRecoveryCode_GeneratedCodes_RoundTripThroughTypingVariants()
    {
        foreach (var code in OneTimeCodes.GenerateRecoveryCodes(50))
        {
            var compact = code.Replace("-", string.Empty, StringComparison.Ordinal);

            Assert.Equal(code, OneTimeCodes.NormalizeRecoveryCode(code));
            Assert.Equal(code, OneTimeCodes.NormalizeRecoveryCode(compact));
            Assert.Equal(code, OneTimeCodes.NormalizeRecoveryCode(code.ToLowerInvariant()));
            Assert.Equal(code, OneTimeCodes.NormalizeRecoveryCode(string.Join(' ', compact.Chunk(4).Select(c => new string(c)))));
        }
    }

    [Theory]
    [InlineData("o0o0o-iIlL1-abcde-fghjk", "00000-11111-ABCDE-FGHJK")]
    [InlineData("  0000011111 ABCDE FGHJK\n", "00000-11111-ABCDE-FGHJK")]
    public void NormalizeRecoveryCode_LookAlikesAndCase_FoldToTheCanonicalForm(string typed, string canonical)
    {
        Assert.Equal(canonical, OneTimeCodes.NormalizeRecoveryCode(typed));
    }

    [Theory]
    [InlineData("00000-11111-ABCDE-FGHJU")] // U is not in the alphabet
    [InlineData("00000-11111-ABCDE-FGHJı")] // dotless i is not an ASCII I
    [InlineData("00000-11111-ABCDE-FGHJ")] // 19 symbols
    [InlineData("00000-11111-ABCDE-FGHJKM")] // 21 symbols
    [InlineData("00000-11111-ABCDE-FGHJ+")]
    public void NormalizeRecoveryCode_NotACode_ReturnsNull(string typed)
    {
        Assert.Null(OneTimeCodes.NormalizeRecoveryCode(typed));
    }

    [Fact]
    public void FingerprintRecoveryCode_MatchesTheDocumentedConstruction()
    {
        var key = RandomNumberGenerator.GetBytes(32);

        var fingerprint = OneTimeCodes.FingerprintRecoveryCode(key, "00000-11111-abcde-fghjk");

        var expected = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes("veil/recovery-code/v1\0" + "00000-11111-ABCDE-FGHJK"));
        Assert.Equal(expected, fingerprint);
        Assert.True(OneTimeCodes.RecoveryCodeMatches(key, "OOOOO IIIII ABCDE FGHJK", fingerprint));
        Assert.False(OneTimeCodes.RecoveryCodeMatches(key, "00000-11111-ABCDE-FGHJM", fingerprint));
        Assert.False(OneTimeCodes.RecoveryCodeMatches(RandomNumberGenerator.GetBytes(32), "00000-11111-ABCDE-FGHJK", fingerprint));
        Assert.Null(OneTimeCodes.FingerprintRecoveryCode(key, "not a code"));
    }

    [Fact]
    public void Misuse_ShortKeyOrBadCount_Throws()
    {
        Assert.Throws<ArgumentException>(() => OneTimeCodes.FingerprintRecoveryCode(new byte[31], "00000-11111-ABCDE-FGHJK"));
        Assert.Throws<ArgumentOutOfRangeException>(() => OneTimeCodes.GenerateBackupCodes(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => OneTimeCodes.GenerateRecoveryCodes(101));
    }

    private static double ChiSquare(long[] counts)
    {
        double expected = (double)counts.Sum() / counts.Length;
        return counts.Sum(observed => (observed - expected) * (observed - expected) / expected);
    }
}
