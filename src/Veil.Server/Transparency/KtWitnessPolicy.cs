// The log's witness policy (spec/kt.md, "Witnesses"): which witnesses the sequencer asks to cosign and how many
// must have cosigned before a checkpoint is published. Configured either as a list with a quorum
// (Veil:KeyTransparency:Witnesses, WitnessQuorum — default a majority) or as a C2SP tlog-policy file
// (WitnessPolicyFile). Either way it becomes one TlogPolicy whose log line is this log's own key, served at
// GET /kt/policy for clients to pin (trust on first use) or compare with what their operator told them.
using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Veil.Crypto.Primitives;
using Veil.Crypto.Transparency;

namespace Veil.Server.Transparency;

internal sealed class KtWitnessPolicy(IOptions<KtOptions> options)
{
    private readonly ConcurrentDictionary<string, TlogPolicy> _byLog = new(StringComparer.Ordinal);

    /// <summary>Whether checkpoints need witnesses; without, they are published with the log's signature alone.</summary>
    public bool HasWitnesses => !For(Placeholder).NeedsNoWitness;

    /// <summary>The policy for the log with verifier <paramref name="log"/>.</summary>
    public TlogPolicy For(Ed25519NoteVerifier log)
        => _byLog.GetOrAdd(log.VerifierKey, _ => Build(options.Value, log, out var problem) ?? throw new InvalidOperationException(problem));

    /// <summary>What is wrong with the witness settings, naming the setting; null when they make a policy.</summary>
    public static string? ProblemWith(KtOptions options)
    {
        Build(options, Placeholder, out var problem);
        return problem;
    }

    // A syntactically valid log key for checking the settings before the log (and its origin) exists.
    private static Ed25519NoteVerifier Placeholder { get; } = new("veil-settings-check", Ed25519PublicKey.Import(new byte[Ed25519PublicKey.Length]));

    private static TlogPolicy? Build(KtOptions options, Ed25519NoteVerifier log, out string? problem)
    {
        problem = null;
        if (options.WitnessPolicyFile is { Length: > 0 } path)
        {
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problem = $"Veil:KeyTransparency:WitnessPolicyFile cannot be read ({path}): {e.Message}";
                return null;
            }

            // The log line is this log's key (it derives from the keyring, the operator need not write it); the file's
            // own log lines, if any, are replaced.
            var lines = text.Split('\n').Where(l => !l.TrimStart().StartsWith("log ", StringComparison.Ordinal));
            if (!TlogPolicy.TryParse("log " + log.VerifierKey + "\n" + string.Join('\n', lines), out var fromFile, out var error))
            {
                problem = $"Veil:KeyTransparency:WitnessPolicyFile ({path}) is not a valid tlog-policy: {error}";
                return null;
            }

            if (fromFile.Witnesses.FirstOrDefault(w => w.Url is null) is { } noUrl)
            {
                problem = $"Veil:KeyTransparency:WitnessPolicyFile: witness '{noUrl.Name}' has no URL; the log must know where to submit.";
                return null;
            }

            return fromFile;
        }

        var witnesses = new List<PolicyWitness>();
        for (var i = 0; i < options.Witnesses.Count; i++)
        {
            var witness = options.Witnesses[i];
            if (CosignatureV1Verifier.Parse(witness.VerifierKey ?? string.Empty) is not { } verifier)
            {
                problem = $"Veil:KeyTransparency:Witnesses:{i}:VerifierKey is not a witness cosignature key (name+id+key, as 'veil witness serve' prints it).";
                return null;
            }

            if (!Uri.TryCreate(witness.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                problem = $"Veil:KeyTransparency:Witnesses:{i}:Url must be an absolute http(s) URL.";
                return null;
            }

            if (witnesses.Any(w => w.Name == verifier.Name))
            {
                problem = $"Veil:KeyTransparency:Witnesses:{i} names the witness '{verifier.Name}' a second time.";
                return null;
            }

            witnesses.Add(new PolicyWitness(verifier.Name, verifier, url));
        }

        var quorum = options.WitnessQuorum ?? (witnesses.Count / 2 + (witnesses.Count == 0 ? 0 : 1));
        if (quorum < 0 || quorum > witnesses.Count || (witnesses.Count > 0 && quorum == 0))
        {
            problem = $"Veil:KeyTransparency:WitnessQuorum must be from 1 to the number of witnesses ({witnesses.Count}).";
            return null;
        }

        return TlogPolicy.Threshold(log, witnesses, quorum);
    }
}
