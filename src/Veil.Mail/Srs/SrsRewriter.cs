// Sender Rewriting Scheme (Shevek's SRS, as implemented by libsrs2 in postsrsd), SRS0 and guarded SRS1:
//   SRS0=<hash>=<tt>=<orig-domain>=<orig-local>@<forwarder-domain>
//   SRS1=<hash>=<srs0-domain>=<srs0-local-after-"SRS0">@<forwarder-domain>
// tt is two base32 characters (A–Z, 2–7) of the UTC day number modulo 1024. The hash is the first
// HashLength characters of base64(HMAC(secret, lowercase(fields concatenated))); Veil uses
// HMAC-SHA256 where libsrs2 uses HMAC-SHA1 (a parameter, so the reference outputs can be reproduced).
// Hash, tag and timestamp are compared case-insensitively because mail systems may change the case
// of local parts. The first secret signs, every secret verifies (rotation).
// Differences from libsrs2: the timestamp window is two-sided (MaxAge in the past, MaxFuture ahead)
// and an out-of-window stamp is reported as expired or future rather than one "out of date" code;
// the address is split at its last "@". Limits: input addresses over MaxAddressLength characters are
// malformed; results are values, never exceptions.
using System.Security.Cryptography;
using System.Text;

namespace Veil.Mail.Srs;

/// <summary>The HMAC behind the SRS hash.</summary>
public enum SrsHashAlgorithm
{
    /// <summary>HMAC-SHA256: Veil's default.</summary>
    HmacSha256,

    /// <summary>HMAC-SHA1: libsrs2/postsrsd compatibility only.</summary>
    HmacSha1,
}

/// <summary>The outcome of a rewrite.</summary>
public enum SrsStatus
{
    /// <summary>The address was rewritten (forward) or restored (reverse).</summary>
    Rewritten,

    /// <summary>Forward: the sender is already in the forwarding domain and was left as is.</summary>
    Unchanged,

    /// <summary>Reverse: the address is not an SRS address.</summary>
    NotSrs,

    /// <summary>The address is malformed (no "@", missing SRS fields, bad timestamp characters, too long).</summary>
    Malformed,

    /// <summary>Reverse: no configured secret produces the hash.</summary>
    BadHash,

    /// <summary>Reverse: the timestamp is older than the window allows.</summary>
    Expired,

    /// <summary>Reverse: the timestamp is further in the future than the window allows.</summary>
    FutureTimestamp,
}

/// <summary>A rewrite's status and, when it succeeded, the address.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Address">The resulting address for <see cref="SrsStatus.Rewritten"/> and <see cref="SrsStatus.Unchanged"/>; otherwise null.</param>
public readonly record struct SrsResult(SrsStatus Status, string? Address)
{
    /// <summary>Whether an address came out.</summary>
    public bool Succeeded => Status is SrsStatus.Rewritten or SrsStatus.Unchanged;
}

/// <summary>SRS settings.</summary>
public sealed record SrsOptions
{
    /// <summary>The HMAC keys: the first signs, all verify. Keep them secret; at least one is required.</summary>
    public required IReadOnlyList<ReadOnlyMemory<byte>> Secrets { get; init; }

    /// <summary>The hash algorithm; HMAC-SHA256 unless reproducing libsrs2.</summary>
    public SrsHashAlgorithm Algorithm { get; init; } = SrsHashAlgorithm.HmacSha256;

    /// <summary>How old a timestamp may be (whole days; default 3).</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(3);

    /// <summary>How far ahead a timestamp may be (whole days; default 3), for forwarders with skewed clocks.</summary>
    public TimeSpan MaxFuture { get; init; } = TimeSpan.FromDays(3);

    /// <summary>Characters of base64 hash kept (4 as in libsrs2; at most 16).</summary>
    public int HashLength { get; init; } = 4;

    /// <summary>Rewrite even senders already in the forwarding domain (libsrs2's alwaysrewrite).</summary>
    public bool AlwaysRewrite { get; init; }
}

/// <summary>Forward and reverse SRS rewriting.</summary>
public sealed class SrsRewriter
{
    /// <summary>The longest address accepted as input.</summary>
    public const int MaxAddressLength = 512;

    private const string Base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private const int TimeSlots = 1024;
    private readonly SrsOptions _options;
    private readonly TimeProvider _time;
    private readonly int _maxAgeDays;
    private readonly int _maxFutureDays;

    /// <summary>Creates a rewriter.</summary>
    /// <exception cref="ArgumentException">No secret, an empty secret, a hash length outside 4–16, or a window of 1024 days or more.</exception>
    public SrsRewriter(SrsOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        if (options.Secrets is null || options.Secrets.Count == 0 || options.Secrets.Any(s => s.IsEmpty))
        {
            throw new ArgumentException("SRS needs at least one non-empty secret.", nameof(options));
        }

        if (options.HashLength is < 4 or > 16)
        {
            throw new ArgumentException("The SRS hash length must be 4 to 16 characters.", nameof(options));
        }

        _maxAgeDays = (int)options.MaxAge.TotalDays;
        _maxFutureDays = (int)options.MaxFuture.TotalDays;
        if (_maxAgeDays < 0 || _maxFutureDays < 0 || _maxAgeDays + _maxFutureDays >= TimeSlots)
        {
            throw new ArgumentException("The SRS timestamp window must be non-negative and under 1024 days.", nameof(options));
        }

        _options = options;
        _time = time;
    }

    /// <summary>Rewrites the envelope sender for forwarding through <paramref name="forwarderDomain"/>.</summary>
    /// <param name="sender">The original envelope sender.</param>
    /// <param name="forwarderDomain">The domain the rewritten address lives in.</param>
    public SrsResult Forward(string sender, string forwarderDomain)
    {
        ArgumentException.ThrowIfNullOrEmpty(forwarderDomain);
        if (string.IsNullOrEmpty(sender) || sender.Length > MaxAddressLength)
        {
            return new SrsResult(SrsStatus.Malformed, null);
        }

        int at = sender.LastIndexOf('@');
        if (at <= 0 || at == sender.Length - 1)
        {
            return new SrsResult(SrsStatus.Malformed, null);
        }

        var local = sender[..at];
        var domain = sender[(at + 1)..];
        if (!_options.AlwaysRewrite && domain.Equals(forwarderDomain, StringComparison.OrdinalIgnoreCase))
        {
            return new SrsResult(SrsStatus.Unchanged, sender);
        }

        if (HasTag(local, "SRS1"))
        {
            // Guarded scheme: keep the first forwarder's domain and SRS0 remainder; re-hash them for us.
            var parts = SplitFields(local[5..], 2);
            if (parts is null)
            {
                return new SrsResult(SrsStatus.Malformed, null);
            }

            string srsHost = parts[1], srsUser = parts[2];
            return Rewritten($"SRS1={Hash(0, srsHost, srsUser)}={srsHost}={srsUser}@{forwarderDomain}");
        }

        if (HasTag(local, "SRS0"))
        {
            var srsUser = local[4..];
            return Rewritten($"SRS1={Hash(0, domain, srsUser)}={domain}={srsUser}@{forwarderDomain}");
        }

        var stamp = Timestamp(Today());
        return Rewritten($"SRS0={Hash(0, stamp, domain, local)}={stamp}={domain}={local}@{forwarderDomain}");
    }

    /// <summary>Restores the address an SRS address stands for (one level: SRS1 gives the SRS0 address).</summary>
    /// <param name="address">The recipient address of a bounce.</param>
    public SrsResult Reverse(string address)
    {
        if (string.IsNullOrEmpty(address) || address.Length > MaxAddressLength)
        {
            return new SrsResult(SrsStatus.Malformed, null);
        }

        int at = address.LastIndexOf('@');
        var local = at < 0 ? address : address[..at];
        if (HasTag(local, "SRS1"))
        {
            var parts = SplitFields(local[5..], 2);
            if (parts is null)
            {
                return new SrsResult(SrsStatus.Malformed, null);
            }

            string hash = parts[0], srsHost = parts[1], srsUser = parts[2];
            return HashMatches(hash, srsHost, srsUser)
                ? Rewritten($"SRS0{srsUser}@{srsHost}")
                : new SrsResult(SrsStatus.BadHash, null);
        }

        if (HasTag(local, "SRS0"))
        {
            var parts = SplitFields(local[5..], 3);
            if (parts is null)
            {
                return new SrsResult(SrsStatus.Malformed, null);
            }

            string hash = parts[0], stamp = parts[1], host = parts[2], user = parts[3];
            var timeStatus = CheckTimestamp(stamp);
            if (timeStatus != SrsStatus.Rewritten)
            {
                return new SrsResult(timeStatus, null);
            }

            return HashMatches(hash, stamp, host, user)
                ? Rewritten($"{user}@{host}")
                : new SrsResult(SrsStatus.BadHash, null);
        }

        return new SrsResult(SrsStatus.NotSrs, null);
    }

    private static SrsResult Rewritten(string address)
        => address.Length > MaxAddressLength * 2 ? new SrsResult(SrsStatus.Malformed, null) : new SrsResult(SrsStatus.Rewritten, address);

    /// <summary>"SRS0" or "SRS1", any case, followed by one of libsrs2's separators.</summary>
    private static bool HasTag(string local, string tag)
        => local.Length > 4 && local.StartsWith(tag, StringComparison.OrdinalIgnoreCase) && local[4] is '=' or '-' or '+';

    /// <summary>Splits "a=b=...=rest" into <paramref name="separators"/> leading fields and the rest; every part non-empty.</summary>
    private static string[]? SplitFields(string text, int separators)
    {
        var parts = new string[separators + 1];
        int pos = 0;
        for (int i = 0; i < separators; i++)
        {
            int eq = text.IndexOf('=', pos);
            if (eq < 0)
            {
                return null;
            }

            parts[i] = text[pos..eq];
            pos = eq + 1;
        }

        parts[separators] = text[pos..];
        return parts.Any(p => p.Length == 0) ? null : parts;
    }

    private long Today() => _time.GetUtcNow().ToUnixTimeSeconds() / 86400;

    private static string Timestamp(long day)
    {
        int slot = (int)(day % TimeSlots);
        return string.Concat(Base32[(slot >> 5) & 31], Base32[slot & 31]);
    }

    private SrsStatus CheckTimestamp(string stamp)
    {
        if (stamp.Length != 2)
        {
            return SrsStatus.Malformed;
        }

        int then = 0;
        foreach (char c in stamp)
        {
            int value = Base32.IndexOf(char.ToUpperInvariant(c), StringComparison.Ordinal);
            if (value < 0)
            {
                return SrsStatus.Malformed;
            }

            then = (then << 5) | value;
        }

        int today = (int)(Today() % TimeSlots);
        int age = ((today - then) % TimeSlots + TimeSlots) % TimeSlots;
        if (age <= _maxAgeDays)
        {
            return SrsStatus.Rewritten;
        }

        int ahead = TimeSlots - age;
        if (ahead <= _maxFutureDays)
        {
            return SrsStatus.Rewritten;
        }

        // The day number wraps every 1024 days: call whichever reading is nearer.
        return ahead < age ? SrsStatus.FutureTimestamp : SrsStatus.Expired;
    }

    private string Hash(int secretIndex, params string[] fields)
    {
        var data = Encoding.UTF8.GetBytes(string.Concat(fields));
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] is >= (byte)'A' and <= (byte)'Z')
            {
                data[i] += 32;
            }
        }

        var secret = _options.Secrets[secretIndex].Span;
        var mac = _options.Algorithm == SrsHashAlgorithm.HmacSha1
#pragma warning disable CA5350 // HMAC-SHA1 only to interoperate with libsrs2; Veil's default is HMAC-SHA256.
            ? HMACSHA1.HashData(secret, data)
#pragma warning restore CA5350
            : HMACSHA256.HashData(secret, data);
        return Convert.ToBase64String(mac)[.._options.HashLength];
    }

    private bool HashMatches(string hash, params string[] fields)
    {
        if (hash.Length != _options.HashLength)
        {
            return false;
        }

        var given = Encoding.ASCII.GetBytes(hash.ToUpperInvariant());
        bool match = false;
        for (int i = 0; i < _options.Secrets.Count; i++)
        {
            var expected = Encoding.ASCII.GetBytes(Hash(i, fields).ToUpperInvariant());
            match |= CryptographicOperations.FixedTimeEquals(given, expected);
        }

        return match;
    }
}
