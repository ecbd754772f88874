// How alias and reverse addresses are made and recognised. Random aliases read as two words and two
// digits (128 × 128 × 100 ≈ 1.6 million per domain; collisions with live or tombstoned addresses are
// retried); prefixed aliases end in five random characters so a prefix never reveals a guessable set.
// Reverse addresses carry 110 random bits: knowing one tells nothing about another, and they cannot
// be enumerated. Every address is lowercase ASCII.
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Veil.Server.Alias;

internal static partial class AliasAddresses
{
    public const string ReversePrefix = "ra.";
    public const int MaxPrefixLength = 32;

    private const string SuffixAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";
    private const string ReverseAlphabet = "abcdefghijklmnopqrstuvwxyz234567";

    private static readonly System.Buffers.SearchValues<char> Forbidden = System.Buffers.SearchValues.Create(" \t\r\n<>,;\"()[]\\");

    private static readonly string[] First =
    [
        "amber", "azure", "bold", "brave", "breezy", "bright", "calm", "candid", "cedar", "clever", "cloudy", "cobalt",
        "coral", "cosy", "crimson", "crisp", "daring", "dawn", "deep", "dusky", "eager", "early", "easy", "ember",
        "fair", "fancy", "fern", "fine", "flint", "fond", "frosty", "gentle", "giant", "gilded", "glad", "golden",
        "grand", "green", "happy", "hazel", "hidden", "honest", "humble", "icy", "indigo", "ivory", "jade", "jolly",
        "keen", "kind", "lively", "lone", "lucky", "lunar", "maple", "mellow", "merry", "mighty", "misty", "modest",
        "mossy", "noble", "north", "oaken", "ocean", "olive", "opal", "pale", "pearl", "plain", "polar", "proud",
        "quick", "quiet", "rapid", "rare", "rosy", "royal", "ruby", "rustic", "sandy", "scarlet", "shady", "sharp",
        "shy", "silent", "silver", "simple", "sleek", "slow", "smooth", "snowy", "solar", "solid", "spare", "spry",
        "steady", "still", "stone", "stormy", "sunny", "swift", "tall", "tame", "tender", "tidy", "tiny", "topaz",
        "tranquil", "true", "umber", "vast", "velvet", "violet", "vivid", "warm", "wary", "west", "wild", "windy",
        "wise", "witty", "woody", "young", "zany", "zesty", "brisk", "cool",
    ];

    private static readonly string[] Second =
    [
        "acorn", "anchor", "arrow", "aspen", "badger", "bay", "beacon", "birch", "bison", "bloom", "brook", "canyon",
        "cape", "cedar", "cliff", "clover", "comet", "coral", "cove", "crane", "creek", "crow", "dale", "delta",
        "dune", "eagle", "echo", "elm", "falcon", "fern", "field", "finch", "fjord", "flame", "forest", "fox",
        "frost", "garden", "glade", "glen", "grove", "gull", "harbor", "hare", "hawk", "heath", "heron", "hill",
        "island", "ivy", "lake", "lark", "leaf", "lily", "lynx", "maple", "marsh", "meadow", "mesa", "mist",
        "moon", "moss", "moth", "oak", "orchid", "otter", "owl", "palm", "peak", "pebble", "pine", "plain",
        "pond", "poppy", "prairie", "quail", "rain", "raven", "reef", "ridge", "river", "robin", "rock", "rose",
        "sage", "shore", "sky", "slope", "snow", "sparrow", "spring", "spruce", "star", "stone", "storm", "stream",
        "summit", "swan", "thistle", "thorn", "tide", "tiger", "trail", "tulip", "valley", "vale", "wave", "willow",
        "wind", "wolf", "wren", "yarrow", "bear", "cloud", "dove", "ember", "gale", "hollow", "kite", "lagoon",
        "marble", "nectar", "onyx", "pixel", "quartz", "rapids", "sierra", "tundra",
    ];

    /// <summary><c>amber.river42</c>.</summary>
    public static string RandomLocalPart() =>
        First[RandomNumberGenerator.GetInt32(First.Length)] + "." + Second[RandomNumberGenerator.GetInt32(Second.Length)]
        + RandomNumberGenerator.GetInt32(100).ToString("D2", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary><c>prefix.x7k2q</c>.</summary>
    public static string PrefixedLocalPart(string prefix) => prefix + "." + RandomNumberGenerator.GetString(SuffixAlphabet, 5);

    /// <summary><c>ra.&lt;22 base32 characters&gt;</c>.</summary>
    public static string ReverseLocalPart() => ReversePrefix + RandomNumberGenerator.GetString(ReverseAlphabet, 22);

    /// <summary>A valid prefix, lowercased; or null.</summary>
    public static string? NormalizePrefix(string? prefix)
    {
        if (prefix is null) return null;
        var p = prefix.Trim().ToLowerInvariant();
        return PrefixPattern().IsMatch(p) ? p : null;
    }

    public static bool IsPrefixValid(string? prefix) => NormalizePrefix(prefix) is not null;

    /// <summary>Splits <c>local@domain</c> (lowercased, trimmed, no trailing dot); false if it is not one address.</summary>
    public static bool TrySplit(string? address, out string local, out string domain)
    {
        local = domain = "";
        // SRS addresses routinely exceed RFC 5321's 64-octet local part (they embed the original address).
        if (string.IsNullOrWhiteSpace(address) || address.Length > 320) return false;
        var a = address.Trim().ToLowerInvariant();
        int at = a.LastIndexOf('@');
        if (at <= 0 || at == a.Length - 1) return false;
        local = a[..at];
        domain = a[(at + 1)..].TrimEnd('.');
        return domain.Length > 0 && !a.AsSpan().ContainsAny(Forbidden) && !local.Contains('@', StringComparison.Ordinal);
    }

    /// <summary>A mailbox address a user may register or write to: <c>local@domain.tld</c>, lowercased; or null.</summary>
    public static string? NormalizeMailbox(string? address)
    {
        if (!TrySplit(address, out var local, out var domain) || local.Length > 64 || address!.Length > 254) return null;
        if (!domain.Contains('.', StringComparison.Ordinal) || domain.Split('.').Any(l => l.Length == 0)) return null;
        if (local.Any(c => c < '!' || c > '~') || domain.Any(c => c < '!' || c > '~')) return null;
        return local + "@" + domain;
    }

    public static bool IsReverseLocalPart(string local) =>
        local.Length == ReversePrefix.Length + 22 && local.StartsWith(ReversePrefix, StringComparison.Ordinal) && local[3..].All(c => ReverseAlphabet.Contains(c, StringComparison.Ordinal));

    public static bool IsSrsLocalPart(string local) =>
        local.StartsWith("srs0=", StringComparison.OrdinalIgnoreCase) || local.StartsWith("srs1=", StringComparison.OrdinalIgnoreCase);

    /// <summary>What a catch-all may create: a plain local part (letters, digits, <c>. _ - +</c>), not reserved forms.</summary>
    public static bool IsCatchAllLocalPart(string local) =>
        CatchAllPattern().IsMatch(local) && !IsReverseLocalPart(local) && !IsSrsLocalPart(local)
        && local is not ("postmaster" or "abuse" or "mailer-daemon");

    /// <summary>Finds reverse addresses at <paramref name="domains"/> in a bounce's text (the returned headers name the reverse address in From).</summary>
    public static IEnumerable<string> FindReverseAddresses(string text, IReadOnlyList<string> domains)
    {
        foreach (Match m in ReverseInText().Matches(text))
        {
            var address = m.Value.ToLowerInvariant();
            if (TrySplit(address, out _, out var domain) && domains.Contains(domain, StringComparer.Ordinal))
            {
                yield return address;
            }
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex PrefixPattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9._+-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex CatchAllPattern();

    [GeneratedRegex(@"ra\.[a-z2-7]{22}@[a-z0-9.-]+", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex ReverseInText();
}
