// `veil kt …`: key transparency from the command line (spec/kt.md §8).
//   veil kt status            the pinned policy (log key, witnesses, quorum) and the last checkpoint this client accepted
//   veil kt verify ADDRESS    look up ADDRESS's mail key with its proofs and verify them, printing what was checked
// State lives beside the session file, per server (<config dir>/kt/<hash of the server origin>/): the policy pinned
// on first use and the last checkpoint. Not built yet: `veil kt monitor` and chat lookups.
using System.CommandLine;
using System.Globalization;
using Veil.Cli.Account;
using Veil.Client.Mailbox;
using Veil.Client.Transparency;
using Veil.Crypto.Transparency;

namespace Veil.Cli.Kt;

internal static class KtCommand
{
    public static Command Create(Option<bool> json)
    {
        var options = new AccountOptions(json);
        var kt = new Command("kt", "Key transparency: check the keys this server hands out against its public, witnessed log");
        options.AddTo(kt);
        kt.Subcommands.Add(Status(options));
        kt.Subcommands.Add(Verify(options));
        return kt;
    }

    private static Command Status(AccountOptions options)
    {
        var command = new Command("status", "The pinned log key, witnesses and quorum, and the last checkpoint this client accepted");
        return AccountCli.Verb(command, options, (cli, _) =>
        {
            var server = cli.AnonymousServer();
            var store = KtTrustStore.For(cli.Store.Directory, server);
            using var client = AccountCli.NewClient(server);
            var kt = new KtClient(client, store);
            TlogPolicy? policy = store.Policy is { } text && TlogPolicy.TryParse(text, out var parsed, out var unreadable) && unreadable.Length == 0 ? parsed : null;
            var last = kt.LastSeen;
            var cosigned = store.Checkpoint is { } note && SignedNote.TryParse(note, out var signed) && policy is not null
                ? policy.Cosigners(signed).Count
                : 0;
            var newest = Newest(store.Checkpoint);
            var age = newest is { } at ? DateTimeOffset.UtcNow - at : (TimeSpan?)null;
            var lines = new List<string> { $"Server: {server}" };
            lines.Add(policy is null
                ? "Policy: none pinned yet (the first 'veil kt verify' pins the server's GET /kt/policy)"
                : $"Log key: {policy.Logs[0].VerifierKey}");
            if (policy is not null)
            {
                lines.Add(policy.NeedsNoWitness ? "Witnesses: none (quorum none: a split view would not be detected)" : $"Witnesses: {policy.Witnesses.Count}, quorum '{policy.QuorumName}'");
                lines.AddRange(policy.Witnesses.Select(w => $"  {w.Name} {w.Verifier.VerifierKey}"));
            }

            lines.Add(last is null
                ? "Last checkpoint: none yet"
                : $"Last checkpoint: size {last.Size}, root {Convert.ToBase64String(last.RootHash)}, cosigned by {cosigned} pinned witnesses"
                  + (age is { } a ? $", newest cosignature {Describe(a)} old" : ""));
            cli.Output.Event(string.Join(Environment.NewLine, lines), new
            {
                server = server.ToString(),
                logKey = policy?.Logs[0].VerifierKey,
                witnesses = policy?.Witnesses.Select(w => w.Verifier.VerifierKey).ToArray() ?? [],
                quorum = policy?.QuorumName,
                size = last?.Size,
                root = last is null ? null : Convert.ToBase64String(last.RootHash),
                cosigners = cosigned,
                newestCosignature = newest,
            });
            return Task.FromResult(VeilCommand.Ok);
        });
    }

    private static Command Verify(AccountOptions options)
    {
        var address = new Argument<string>("ADDRESS") { Description = "A mail address on this server" };
        var command = new Command("verify", "Fetch ADDRESS's mail key with its key transparency proofs and verify them") { address };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var server = cli.AnonymousServer();
            var target = cli.Parse(address)!.Trim().ToLowerInvariant();
            using var client = AccountCli.NewClient(server);
            using var mailbox = new MailboxClient(client);
            var kt = new KtClient(client, KtTrustStore.For(cli.Store.Directory, server));
            var before = kt.LastSeen;
            try
            {
                var (key, proof) = await mailbox.LookupVerifiedKeyAsync(target, kt, ct);
                var policy = await kt.PolicyAsync(ct);
                var checkpoint = proof.Checkpoint!;
                var checks = new[]
                {
                    $"checkpoint size {checkpoint.Size} signed by the pinned log key {policy.Logs[0].VerifierKey}",
                    policy.NeedsNoWitness ? "no witness required by the pinned policy" : $"cosigned by a quorum ('{policy.QuorumName}') of the {policy.Witnesses.Count} pinned witnesses",
                    before is null ? "no earlier checkpoint stored (first use)" : $"consistent with the checkpoint seen before (size {before.Size})",
                    $"{proof.Events.Count} logged event(s) for {target}, each with a valid inclusion proof" + (proof.Pending > 0 ? $"; {proof.Pending} pending" : ""),
                    $"the served key {key.Fingerprint} is the one the log shows in place",
                };
                cli.Output.Event($"{target}: verified" + Environment.NewLine + string.Join(Environment.NewLine, checks.Select(c => "  ok  " + c)), new
                {
                    address = target,
                    verified = true,
                    fingerprint = key.Fingerprint,
                    size = checkpoint.Size,
                    previousSize = before?.Size,
                    events = proof.Events.Count,
                    pending = proof.Pending,
                    checks,
                });
                return VeilCommand.Ok;
            }
            catch (KtRefusedException e)
            {
                cli.Output.Error($"{target}: refused: {e.Message}");
                return VeilCommand.Failed;
            }
        });
    }

    /// <summary>The newest cosignature timestamp on a stored checkpoint (how fresh the witnesses' view is).</summary>
    private static DateTimeOffset? Newest(byte[]? note)
    {
        if (note is null || !SignedNote.TryParse(note, out var parsed))
        {
            return null;
        }

        var stamps = parsed.Signatures.Select(s => CosignatureV1.TryReadTimestamp(s.Signature, out var t) ? (long?)t : null).Where(t => t is not null).ToList();
        return stamps.Count == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(stamps.Max()!.Value);
    }

    private static string Describe(TimeSpan age)
        => age.TotalMinutes < 2 ? $"{Math.Max(0, (int)age.TotalSeconds).ToString(CultureInfo.InvariantCulture)} s"
            : age.TotalHours < 2 ? $"{(int)age.TotalMinutes} min" : $"{(int)age.TotalHours} h";
}
