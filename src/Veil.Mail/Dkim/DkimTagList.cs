// DKIM tag=value lists (RFC 6376 §3.2), used by the DKIM-Signature field and the DNS key record.
// Strict and bounded: at most MaxTags tags, tag names ALPHA *(ALPHA / DIGIT / "_"), values of
// VALCHAR and folding whitespace only, no duplicate tag, an empty tag-spec only after the last ";".
namespace Veil.Mail.Dkim;

/// <summary>A parsed tag list: tag name → value with its outer whitespace removed.</summary>
internal sealed class DkimTagList
{
    /// <summary>The most tags accepted in one list.</summary>
    public const int MaxTags = 64;

    private readonly Dictionary<string, string> _tags;

    private DkimTagList(Dictionary<string, string> tags, string firstTag)
    {
        _tags = tags;
        FirstTag = firstTag;
    }

    /// <summary>The name of the first tag (a key record's v= must come first).</summary>
    public string FirstTag { get; }

    /// <summary>The value of <paramref name="name"/>, or null when absent.</summary>
    public string? this[string name] => _tags.GetValueOrDefault(name);

    /// <summary>Parses <paramref name="text"/>; false on any syntax violation.</summary>
    public static bool TryParse(string text, out DkimTagList list)
    {
        list = null!;
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        string first = "";
        var specs = text.Split(';');
        for (int i = 0; i < specs.Length; i++)
        {
            var spec = specs[i].Trim(Fws);
            if (spec.Length == 0)
            {
                // Only the optional trailing ";" (or an entirely empty list) leaves an empty spec.
                if (i == specs.Length - 1 && (i > 0 || specs.Length == 1))
                {
                    continue;
                }

                return false;
            }

            if (tags.Count >= MaxTags)
            {
                return false;
            }

            int eq = spec.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                return false;
            }

            var name = spec[..eq].TrimEnd(Fws);
            var value = spec[(eq + 1)..].TrimStart(Fws);
            if (!IsTagName(name) || !IsTagValue(value) || !tags.TryAdd(name, value))
            {
                return false;
            }

            if (tags.Count == 1)
            {
                first = name;
            }
        }

        list = new DkimTagList(tags, first);
        return true;
    }

    /// <summary>Folding whitespace characters.</summary>
    public static readonly char[] Fws = [' ', '\t', '\r', '\n'];

    /// <summary>Removes every folding whitespace character (for b=, bh=, p= and h=).</summary>
    public static string RemoveFws(string value)
        => value.IndexOfAny(Fws) < 0 ? value : string.Concat(value.Where(c => c is not (' ' or '\t' or '\r' or '\n')));

    private static bool IsTagName(string name)
    {
        if (name.Length == 0 || !char.IsAsciiLetter(name[0]))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsTagValue(string value)
    {
        foreach (char c in value)
        {
            bool valChar = c is >= '!' and <= '~' && c != ';';
            if (!valChar && c is not (' ' or '\t' or '\r' or '\n'))
            {
                return false;
            }
        }

        return true;
    }
}
