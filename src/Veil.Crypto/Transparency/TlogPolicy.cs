// Witness policies in the C2SP tlog-policy line format: which log keys to trust, which witnesses, and which
// combinations of witnesses must have cosigned a checkpoint before it is believed.
//
//   # comment                               blank lines and lines starting with '#' are ignored
//   log <vkey> [<url>]                      a log's Ed25519 (type 0x01) verifier key; its name is the origin
//   witness <name> <vkey> [<url>]           a witness's cosignature (type 0x04) verifier key, named locally
//   group <name> <all|any|k> <member>...    satisfied when all / any / at least k members are
//   quorum <name|none>                      the witness or group that must be satisfied ("none": no witness)
//
// Witness and group names share one namespace and must be defined before use, so a policy has no cycles.
// The URL of a witness is its submission prefix (the log POSTs <url>/add-checkpoint); clients ignore it.
using System.Globalization;
using System.Text;

namespace Veil.Crypto.Transparency;

/// <summary>One witness of a policy: its local name, its cosignature verifier and, for the log, its submission URL.</summary>
public sealed record PolicyWitness(string Name, CosignatureV1Verifier Verifier, Uri? Url);

/// <summary>A parsed tlog-policy: logs, witnesses and the quorum a checkpoint must reach.</summary>
public sealed class TlogPolicy
{
    private readonly Dictionary<string, Func<IReadOnlySet<string>, bool>> _names;
    private readonly Func<IReadOnlySet<string>, bool> _quorum;

    private TlogPolicy(
        IReadOnlyList<Ed25519NoteVerifier> logs, IReadOnlyList<PolicyWitness> witnesses,
        Dictionary<string, Func<IReadOnlySet<string>, bool>> names, string quorumName, string text)
    {
        Logs = logs;
        Witnesses = witnesses;
        _names = names;
        QuorumName = quorumName;
        _quorum = quorumName == "none" ? _ => true : names[quorumName];
        Text = text;
    }

    /// <summary>The trusted log keys.</summary>
    public IReadOnlyList<Ed25519NoteVerifier> Logs { get; }

    /// <summary>The witnesses, in the order the policy names them.</summary>
    public IReadOnlyList<PolicyWitness> Witnesses { get; }

    /// <summary>The name the quorum line names ("none" when no witness is needed).</summary>
    public string QuorumName { get; }

    /// <summary>Whether the policy needs no witness at all.</summary>
    public bool NeedsNoWitness => QuorumName == "none";

    /// <summary>The policy as written (canonical lines, comments dropped).</summary>
    public string Text { get; }

    /// <summary>Whether the witnesses named in <paramref name="cosigners"/> (local names) satisfy the quorum.</summary>
    public bool IsSatisfiedBy(IReadOnlySet<string> cosigners)
    {
        ArgumentNullException.ThrowIfNull(cosigners);
        return _quorum(cosigners);
    }

    /// <summary>
    /// The local names of the policy's witnesses whose cosignature on <paramref name="note"/> verifies. A cosignature
    /// line of a policy witness that does not verify counts as absent (the caller decides on the quorum).
    /// </summary>
    public IReadOnlySet<string> Cosigners(SignedNote note)
    {
        ArgumentNullException.ThrowIfNull(note);
        var text = Encoding.UTF8.GetBytes(note.Text);
        var cosigners = new HashSet<string>(StringComparer.Ordinal);
        foreach (var witness in Witnesses)
        {
            if (note.Signatures.Any(s => s.KeyId == witness.Verifier.KeyId && s.Name == witness.Verifier.Name
                                         && witness.Verifier.Verify(text, s.Signature)))
            {
                cosigners.Add(witness.Name);
            }
        }

        return cosigners;
    }

    /// <summary>
    /// Opens a checkpoint note as this policy demands: signed by one of its logs (the origin is the log key's name)
    /// and cosigned by a quorum of its witnesses. Anything else returns <see langword="null"/>.
    /// </summary>
    public Checkpoint? OpenCheckpoint(ReadOnlySpan<byte> noteBytes)
    {
        if (!SignedNote.TryParse(noteBytes, out var note) || note.Verify(Logs) is null
            || !Checkpoint.TryParse(note.Text, out var checkpoint)
            || !Logs.Any(l => l.Name == checkpoint.Origin && note.Signatures.Any(s => s.Name == l.Name && s.KeyId == l.KeyId)))
        {
            return null;
        }

        return IsSatisfiedBy(Cosigners(note)) ? checkpoint : null;
    }

    /// <summary>A policy for one log with the given witnesses, of which at least <paramref name="quorum"/> must cosign.</summary>
    /// <exception cref="ArgumentException">A quorum larger than the number of witnesses, or a negative one.</exception>
    public static TlogPolicy Threshold(Ed25519NoteVerifier log, IReadOnlyList<PolicyWitness> witnesses, int quorum)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(witnesses);
        if (quorum < 0 || quorum > witnesses.Count)
        {
            throw new ArgumentException("The quorum is between zero and the number of witnesses.", nameof(quorum));
        }

        var text = new StringBuilder();
        text.Append("log ").Append(log.VerifierKey).Append('\n');
        foreach (var witness in witnesses)
        {
            text.Append("witness ").Append(witness.Name).Append(' ').Append(witness.Verifier.VerifierKey);
            if (witness.Url is not null)
            {
                text.Append(' ').Append(witness.Url);
            }

            text.Append('\n');
        }

        if (quorum == 0)
        {
            text.Append("quorum none\n");
        }
        else
        {
            text.Append("group quorum ").Append(quorum.ToString(CultureInfo.InvariantCulture));
            foreach (var witness in witnesses)
            {
                text.Append(' ').Append(witness.Name);
            }

            text.Append("\nquorum quorum\n");
        }

        return TryParse(text.ToString(), out var policy, out var error)
            ? policy
            : throw new ArgumentException("The witnesses do not make a valid policy: " + error, nameof(witnesses));
    }

    /// <summary>Parses a policy; on failure <paramref name="error"/> names the line and what is wrong with it.</summary>
    public static bool TryParse(string text, out TlogPolicy policy, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        policy = null!;
        error = string.Empty;
        var logs = new List<Ed25519NoteVerifier>();
        var witnesses = new List<PolicyWitness>();
        var names = new Dictionary<string, Func<IReadOnlySet<string>, bool>>(StringComparer.Ordinal);
        string? quorum = null;
        var canonical = new StringBuilder();
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string? problem = words[0] switch
            {
                "log" => ParseLog(words, logs),
                "witness" => ParseWitness(words, witnesses, names),
                "group" => ParseGroup(words, names),
                "quorum" when quorum is not null => "a second quorum line",
                "quorum" when words.Length != 2 => "quorum takes one name",
                "quorum" when words[1] != "none" && !names.ContainsKey(words[1]) => $"quorum names '{words[1]}', which is not defined above",
                "quorum" => null,
                _ => $"unknown keyword '{words[0]}'",
            };
            if (problem is not null)
            {
                error = $"line {lineNumber}: {problem}";
                return false;
            }

            if (words[0] == "quorum")
            {
                quorum = words[1];
            }

            canonical.Append(string.Join(' ', words)).Append('\n');
        }

        if (logs.Count == 0 || quorum is null)
        {
            error = logs.Count == 0 ? "no log line" : "no quorum line";
            return false;
        }

        policy = new TlogPolicy(logs, witnesses, names, quorum, canonical.ToString());
        return true;
    }

    private static string? ParseLog(string[] words, List<Ed25519NoteVerifier> logs)
    {
        if (words.Length is < 2 or > 3)
        {
            return "log takes a verifier key and an optional URL";
        }

        if (Ed25519NoteVerifier.Parse(words[1]) is not { } verifier)
        {
            return "the log key is not an Ed25519 (type 0x01) verifier key";
        }

        logs.Add(verifier);
        return null;
    }

    private static string? ParseWitness(string[] words, List<PolicyWitness> witnesses, Dictionary<string, Func<IReadOnlySet<string>, bool>> names)
    {
        if (words.Length is < 3 or > 4)
        {
            return "witness takes a name, a verifier key and an optional URL";
        }

        var name = words[1];
        if (name == "none" || names.ContainsKey(name))
        {
            return $"the name '{name}' is already defined";
        }

        if (CosignatureV1Verifier.Parse(words[2]) is not { } verifier)
        {
            return "the witness key is not a cosignature (type 0x04) verifier key";
        }

        Uri? url = null;
        if (words.Length == 4 && (!Uri.TryCreate(words[3], UriKind.Absolute, out url) || url.Scheme is not ("http" or "https")))
        {
            return "the witness URL is not an absolute http(s) URL";
        }

        witnesses.Add(new PolicyWitness(name, verifier, url));
        names[name] = cosigners => cosigners.Contains(name);
        return null;
    }

    private static string? ParseGroup(string[] words, Dictionary<string, Func<IReadOnlySet<string>, bool>> names)
    {
        if (words.Length < 4)
        {
            return "group takes a name, all|any|<k> and at least one member";
        }

        var name = words[1];
        if (name == "none" || names.ContainsKey(name))
        {
            return $"the name '{name}' is already defined";
        }

        var members = words[3..];
        if (members.FirstOrDefault(m => !names.ContainsKey(m)) is { } unknown)
        {
            return $"group member '{unknown}' is not defined above";
        }

        if (members.Distinct(StringComparer.Ordinal).Count() != members.Length)
        {
            return "a group names a member twice";
        }

        int threshold;
        if (words[2] == "all")
        {
            threshold = members.Length;
        }
        else if (words[2] == "any")
        {
            threshold = 1;
        }
        else if (!int.TryParse(words[2], NumberStyles.None, CultureInfo.InvariantCulture, out threshold) || threshold < 1 || threshold > members.Length)
        {
            return "a group's threshold is all, any or a number from 1 to its member count";
        }

        var predicates = members.Select(m => names[m]).ToArray();
        names[name] = cosigners => predicates.Count(p => p(cosigners)) >= threshold;
        return null;
    }
}
