// Password sign-in throttling that tells nobody anything (issue 14, finding 4). It used to lock the account:
// after ten wrong passwords an existing address answered 429 account-locked while an unknown one kept answering
// 401, which told anyone which addresses have accounts, and anyone could lock anyone out from anywhere.
//
// Now failures are counted per (address, source IP), for every address whether or not it has an account, so the
// answers for existing and unknown addresses are the same in every state. A pair that reaches the limit is refused
// (429 sign-in-throttled, even with the right password) for Lockout:Duration, doubling with each further lockout of
// that pair (capped at a day): an attacker's guesses slow down geometrically, while the owner's own address is
// unaffected. Magic-link sign-in never consults this throttle, and a used magic link clears every pair of its
// address; the owner of an existing account is told by mail when a pair is throttled. The per-address limiter
// (identity-signin-target) still caps guesses from many addresses at once.
//
// State is in memory (per node, like the rate limiters); keys are keyed fingerprints, so the process holds no table
// of addresses or IPs.
using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Redaction;

namespace Veil.Server.Identity.Services;

internal sealed class SignInThrottle(TimeProvider clock, IOptions<IdentityOptions> options)
{
    /// <summary>Beyond this many tracked pairs, entries that neither block nor count recent failures are dropped.</summary>
    private const int PruneAbove = 100_000;

    private static readonly TimeSpan MaxLockout = TimeSpan.FromDays(1);

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, Pair>> _byAddress = new(StringComparer.Ordinal);
    private int _count;

    /// <summary>How long the pair is still refused, or null when it may try.</summary>
    public TimeSpan? Blocked(string email, string source)
    {
        var now = clock.GetUtcNow();
        if (_byAddress.TryGetValue(AddressKey(email), out var pairs) && pairs.TryGetValue(SourceKey(source), out var pair))
        {
            lock (pair)
            {
                return pair.BlockedUntil > now ? pair.BlockedUntil - now : null;
            }
        }

        return null;
    }

    /// <summary>Counts a failure; true when it started a lockout of the pair.</summary>
    public bool RecordFailure(string email, string source)
    {
        var now = clock.GetUtcNow();
        var lockout = options.Value.Lockout;
        if (Volatile.Read(ref _count) > PruneAbove)
        {
            Prune(now);
        }

        var pairs = _byAddress.GetOrAdd(AddressKey(email), _ => new ConcurrentDictionary<string, Pair>(StringComparer.Ordinal));
        var pair = pairs.GetOrAdd(SourceKey(source), _ =>
        {
            Interlocked.Increment(ref _count);
            return new Pair();
        });
        lock (pair)
        {
            // A lockout period without failures (counted from the end of the last lockout) forgets the pair's history:
            // its failures and the doubling.
            if (now - pair.LastFailure > lockout.Duration)
            {
                pair.Failures = 0;
                pair.Lockouts = 0;
            }

            pair.LastFailure = now;
            pair.Failures++;
            if (pair.Failures < lockout.MaxFailedAttempts)
            {
                return false;
            }

            pair.Failures = 0;
            pair.Lockouts++;
            var duration = TimeSpan.FromTicks(Math.Min(MaxLockout.Ticks, lockout.Duration.Ticks << Math.Min(pair.Lockouts - 1, 20)));
            pair.BlockedUntil = now + duration;
            pair.LastFailure = pair.BlockedUntil; // the doubling is remembered until a lockout period after this one ends
            return true;
        }
    }

    /// <summary>Forgets every pair of <paramref name="email"/>: its owner proved control of the mailbox (a magic link) or the password.</summary>
    public void Clear(string email)
    {
        if (_byAddress.TryRemove(AddressKey(email), out var pairs))
        {
            Interlocked.Add(ref _count, -pairs.Count);
        }
    }

    /// <summary>Forgets the failures of one pair after a correct password from it.</summary>
    public void Succeeded(string email, string source)
    {
        if (_byAddress.TryGetValue(AddressKey(email), out var pairs) && pairs.TryRemove(SourceKey(source), out _))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    private void Prune(DateTimeOffset now)
    {
        var period = options.Value.Lockout.Duration;
        foreach (var (address, pairs) in _byAddress)
        {
            foreach (var (source, pair) in pairs)
            {
                bool stale;
                lock (pair)
                {
                    stale = pair.BlockedUntil <= now && now - pair.LastFailure > period;
                }

                if (stale && pairs.TryRemove(source, out _))
                {
                    Interlocked.Decrement(ref _count);
                }
            }

            if (pairs.IsEmpty)
            {
                _byAddress.TryRemove(address, out _);
            }
        }
    }

    private static string AddressKey(string email) => Redact.Fingerprint("signin-throttle/address", email.ToUpperInvariant());

    private static string SourceKey(string source) => Redact.Fingerprint("signin-throttle/source", source);

    private sealed class Pair
    {
        public int Failures;
        public int Lockouts;
        public DateTimeOffset LastFailure = DateTimeOffset.MinValue;
        public DateTimeOffset BlockedUntil = DateTimeOffset.MinValue;
    }
}
