// The master-password rule (spec/keys.md, "Master-password strength"). The account password is the only secret
// behind the user key: the server stores nothing that could recover a vault whose password is forgotten, and it
// sees only an Argon2id-derived auth token, so a weak password is guessable offline by whoever holds a database
// copy. The client therefore refuses a weak NEW password before any key is derived; signing in with an existing
// password is never checked, so accounts created before this rule keep working.
//
// Rule: at least MinimumLength characters AND a zxcvbn score of at least MinimumScore (0..4), with the account's
// email address and "veil" given to zxcvbn as words an attacker would try first. The browser applies the same rule
// with @zxcvbn-ts/core; the two estimators are ports of the same algorithm and can differ by one point near the
// boundary, so the server never depends on either (it cannot: it never sees the password).
using Zxcvbn;

namespace Veil.Client.Identity;

/// <summary>The verdict on a proposed master password.</summary>
/// <param name="Acceptable">True when the password meets the rule.</param>
/// <param name="Score">zxcvbn's score, 0 (trivial) to 4 (strong).</param>
/// <param name="Reason">Why it was refused and what would do, for people; null when acceptable.</param>
public sealed record PasswordVerdict(bool Acceptable, int Score, string? Reason);

/// <summary>Checks new master passwords against the rule in the file header.</summary>
public static class PasswordStrength
{
    /// <summary>Fewest characters a new master password may have.</summary>
    public const int MinimumLength = 10;

    /// <summary>Lowest zxcvbn score (0..4) a new master password may have.</summary>
    public const int MinimumScore = 3;

    /// <summary>Judges <paramref name="password"/> for the account <paramref name="email"/>.</summary>
    public static PasswordVerdict Check(ReadOnlySpan<char> password, string? email)
    {
        var length = password.Length;
        // zxcvbn takes a string. The copy lives as long as the prompt's own string did (the CLI reads lines); it is
        // not kept or logged.
        var text = password.ToString();
        var inputs = new List<string> { "veil" };
        if (!string.IsNullOrWhiteSpace(email))
        {
            inputs.Add(email);
            inputs.AddRange(email.Split('@', '.', '+', '-', '_').Where(p => p.Length >= 3));
        }

        var result = Zxcvbn.Zxcvbn.MatchPassword(text, inputs);
        var score = result.Score;
        var advice = $"use at least {MinimumLength} characters that are hard to guess, e.g. four or five random words (\"{Example}\")";
        if (length < MinimumLength)
        {
            return new PasswordVerdict(false, score, $"the password is too short ({length} characters): it protects your vault and cannot be reset by the server, so {advice}");
        }

        if (score < MinimumScore)
        {
            return new PasswordVerdict(false, score, $"the password is too easy to guess (strength {score} of 4, at least {MinimumScore} needed{Why(result)}): {advice}");
        }

        return new PasswordVerdict(true, score, null);
    }

    /// <summary>Throws <see cref="WeakPasswordException"/> when <paramref name="password"/> breaks the rule.</summary>
    public static void Require(ReadOnlySpan<char> password, string? email)
    {
        var verdict = Check(password, email);
        if (!verdict.Acceptable)
        {
            throw new WeakPasswordException(verdict.Reason!);
        }
    }

    private const string Example = "orbit pickle lantern sofa";

    // zxcvbn's estimate of an offline attack, in its own words ("instant", "3 hours"…).
    private static string Why(Result result) =>
        string.IsNullOrWhiteSpace(result.CrackTimeDisplay) ? string.Empty : $"; zxcvbn's crack-time estimate: {result.CrackTimeDisplay}";
}

/// <summary>A new master password was refused by <see cref="PasswordStrength"/>; the message says why and what would do.</summary>
public sealed class WeakPasswordException : ArgumentException
{
    public WeakPasswordException()
    {
    }

    public WeakPasswordException(string message)
        : base(message)
    {
    }

    public WeakPasswordException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
