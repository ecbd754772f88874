// TotpParameters: what an authenticator app must agree on with the server (RFC 6238 §4, the
// otpauth:// key-URI "algorithm", "digits" and "period" parameters).
namespace Veil.Crypto.Otp;

/// <summary>The hash, code length and time step of a TOTP credential. <see cref="Default"/> is what every app supports.</summary>
public readonly record struct TotpParameters
{
    /// <summary>Creates parameters, checking that they are in range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="digits"/> is outside 6–8, <paramref name="periodSeconds"/> outside 1–3600,
    /// or <paramref name="algorithm"/> is undefined.
    /// </exception>
    public TotpParameters(OtpAlgorithm algorithm, int digits, int periodSeconds)
    {
        Hotp.CheckAlgorithm(algorithm);
        Hotp.CheckDigits(digits);
        CheckPeriod(periodSeconds);
        Algorithm = algorithm;
        Digits = digits;
        PeriodSeconds = periodSeconds;
    }

    /// <summary>HMAC-SHA1, 6 digits, 30-second steps: RFC 6238's defaults and the requirement.</summary>
    public static TotpParameters Default { get; } = new(OtpAlgorithm.Sha1, Hotp.DefaultDigits, Totp.DefaultPeriodSeconds);

    /// <summary>The HMAC hash.</summary>
    public OtpAlgorithm Algorithm { get; }

    /// <summary>The number of decimal digits in a code (6 to 8).</summary>
    public int Digits { get; }

    /// <summary>The length of a time step in seconds (RFC 6238's X).</summary>
    public int PeriodSeconds { get; }

    /// <summary>Rejects <c>default(TotpParameters)</c>, which never went through the constructor.</summary>
    internal void Validate()
    {
        Hotp.CheckAlgorithm(Algorithm);
        Hotp.CheckDigits(Digits);
        CheckPeriod(PeriodSeconds);
    }

    private static void CheckPeriod(int periodSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(periodSeconds, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(periodSeconds, 3600);
    }
}
