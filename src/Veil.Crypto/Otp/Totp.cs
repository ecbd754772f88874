// Totp: time-based one-time passwords (RFC 6238) for two-factor sign-in.
//
//   step = floor((unix seconds - T0) / X), T0 = 0, X = period (30 s)
//   code = HOTP(secret, step)                                          (see Hotp.cs)
//
// The clock is the caller's: every method takes `now` (from the host's TimeProvider), so tests pin
// time and nothing here reads the system clock. Verification accepts the steps now-window …
// now+window (RFC 6238 §5.2 recommends at most one step of drift each way) and returns the step that
// matched. Replay (RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the same OTP")
// is the caller's to enforce with that step: it stores the matched step and passes it back as
// `lastUsedStep`, and any step at or before it is refused, so a code already used — or an older code
// still inside the window — never signs in twice. Every step in the window is computed and compared
// in constant time, whatever matches, so timing does not tell which step or digit was right.
//
// Limits: times before 1970 are refused; codes are 6–8 digits; the window is at most 10 steps.
using System.Security.Cryptography;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Otp;

/// <summary>RFC 6238 TOTP codes, secrets and verification with replay refusal.</summary>
public static class Totp
{
    /// <summary>The default time step: 30 seconds.</summary>
    public const int DefaultPeriodSeconds = 30;

    /// <summary>The default secret length: 20 bytes (160 bits, RFC 4226 §4's recommendation and the HMAC-SHA1 output size).</summary>
    public const int DefaultSecretLength = 20;

    /// <summary>The default tolerance: one step before and after the current one.</summary>
    public const int DefaultWindow = 1;

    /// <summary>The largest tolerance accepted.</summary>
    public const int MaximumWindow = 10;

    /// <summary>Returns a new random secret of <paramref name="length"/> bytes (16 to 64; 20 by default).</summary>
    /// <exception cref="ArgumentException">The length is outside 16–64.</exception>
    public static byte[] GenerateSecret(int length = DefaultSecretLength)
    {
        if (length is < Hotp.MinimumSecretLength or > Hotp.MaximumSecretLength)
        {
            throw new ArgumentException($"An OTP secret must be {Hotp.MinimumSecretLength} to {Hotp.MaximumSecretLength} bytes.", nameof(length));
        }

        return CryptoRandom.Bytes(length);
    }

    /// <summary>The time step that contains <paramref name="now"/>: floor(Unix seconds / period).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="now"/> is before 1970, or the period is outside 1–3600.</exception>
    public static long TimeStep(DateTimeOffset now, int periodSeconds = DefaultPeriodSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(periodSeconds, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(periodSeconds, 3600);
        ArgumentOutOfRangeException.ThrowIfLessThan(now, DateTimeOffset.UnixEpoch);
        return now.ToUnixTimeSeconds() / periodSeconds;
    }

    /// <summary>The code an authenticator shows at <paramref name="now"/>.</summary>
    /// <exception cref="ArgumentException">The secret is shorter than 16 or longer than 64 bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="now"/> is before 1970, or the parameters are out of range.</exception>
    public static string Generate(ReadOnlySpan<byte> secret, DateTimeOffset now, TotpParameters? parameters = null)
    {
        var p = parameters ?? TotpParameters.Default;
        p.Validate();
        return Hotp.Generate(secret, TimeStep(now, p.PeriodSeconds), p.Digits, p.Algorithm);
    }

    /// <summary>
    /// Checks a typed <paramref name="code"/> against the steps within <paramref name="window"/> of
    /// <paramref name="now"/> and returns the matched time step, or <see langword="null"/> if none
    /// matches, the code is malformed, or the match is at or before <paramref name="lastUsedStep"/>
    /// (a replay). Store the returned step and pass it as <paramref name="lastUsedStep"/> next time;
    /// pass <see langword="null"/> only if no code was ever accepted for this secret. If the code
    /// matches more than one unused step (a 10^-digits coincidence), the earliest is returned, so the
    /// stored step advances as little as possible.
    /// </summary>
    /// <param name="secret">The shared secret (16 to 64 bytes).</param>
    /// <param name="code">The code as typed: ASCII digits of the exact length; ASCII spaces are ignored.</param>
    /// <param name="now">The current time, from the caller's clock.</param>
    /// <param name="lastUsedStep">The step matched by the last accepted code, or <see langword="null"/>.</param>
    /// <param name="window">How many steps of clock drift to accept either way (0 to 10; 1 by default).</param>
    /// <param name="parameters">The credential's parameters; <see cref="TotpParameters.Default"/> if omitted.</param>
    /// <exception cref="ArgumentException">The secret is shorter than 16 or longer than 64 bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="now"/> is before 1970, or the window or parameters are out of range.</exception>
    public static long? Verify(
        ReadOnlySpan<byte> secret,
        ReadOnlySpan<char> code,
        DateTimeOffset now,
        long? lastUsedStep,
        int window = DefaultWindow,
        TotpParameters? parameters = null)
    {
        var p = parameters ?? TotpParameters.Default;
        p.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(window);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(window, MaximumWindow);
        Hotp.CheckSecret(secret);

        var current = TimeStep(now, p.PeriodSeconds);
        Span<byte> typed = stackalloc byte[Hotp.MaximumDigits];
        Span<byte> expected = stackalloc byte[Hotp.MaximumDigits];
        var wellFormed = Hotp.TryParseCode(code, typed[..p.Digits]);
        long? matched = null;
        try
        {
            // No early exit: every step is computed and compared, so the time taken does not depend
            // on which step matched or whether the code was well formed.
            for (var step = current + window; step >= current - window; step--)
            {
                if (step < 0)
                {
                    continue;
                }

                Hotp.WriteCode(secret, step, p.Digits, p.Algorithm, expected[..p.Digits]);
                var equal = CryptographicOperations.FixedTimeEquals(typed[..p.Digits], expected[..p.Digits]);
                var unused = lastUsedStep is not { } last || step > last;
                if (equal & unused & wellFormed)
                {
                    matched = step;
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(expected);
            CryptographicOperations.ZeroMemory(typed);
        }

        return matched;
    }
}
