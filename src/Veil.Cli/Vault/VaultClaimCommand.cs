// `veil vault claim LINK [--out DIR] [--code CODE]`: for a recipient (no account needed). Without --code it asks the
// server to email the 6-digit code, then asks for it (terminal prompt, or the next stdin line); --send-code only sends
// it. With the code: the link is used up, the vault key is rebuilt from the escrow and the delivery key, every value
// is opened and every file decrypted and authenticated BEFORE anything is written; then the files are renamed into
// DIR/files and DIR/vault.json is written. A tampered vault writes nothing and exits 1 with one line.
using System.CommandLine;
using Veil.Cli.Account;
using Veil.Client.Vault;

namespace Veil.Cli.Vault;

internal static class VaultClaimCommand
{
    public static Command Create(AccountOptions options)
    {
        var link = new Argument<string>("LINK") { Description = "The claim link from the email: {origin}/vault/claim/{token}" };
        var output = new Option<string>("--out", "-o") { Description = "Directory to write vault.json and files/ into (default: the current directory)", HelpName = "DIR", DefaultValueFactory = _ => "." };
        var code = new Option<string?>("--code") { Description = "The 6-digit code from the email (else it is requested and asked for)", HelpName = "CODE" };
        var sendCode = new Option<bool>("--send-code") { Description = "Only email the code, then exit (claim later with --code)" };
        var command = new Command("claim", "Receive a vault released to you: asks for the emailed code, then writes vault.json and the files") { link, output, code, sendCode };
        return VaultCli.Verb(command, options, async (cli, ct) =>
        {
            VaultClaimLink parsed = VaultClaimLink.TryParse(cli.Parse(link)) ?? throw new UsageException("not a claim link: expected {origin}/vault/claim/{token}");
            using var client = AccountCli.NewClient(parsed.Origin);
            string? given = cli.Parse(code);
            if (given is null || cli.Parse(sendCode))
            {
                DateTimeOffset expires = await VaultClaim.RequestCodeAsync(client, parsed, ct);
                cli.Output.Event(
                    $"A 6-digit code was emailed to the address this link was sent to (valid until {AccountCommand.Time(expires)}).",
                    new { @event = "code-sent", expiresAt = expires });
                if (cli.Parse(sendCode))
                {
                    return VeilCommand.Ok;
                }

                given = ReadCode();
            }

            using VaultClaim claim = await VaultClaim.ClaimAsync(client, parsed, given, ct);
            if (claim.IsRehearsal)
            {
                cli.Output.Event(
                    $"Rehearsal: the link and the code work. A real release would reach {claim.RehearsalRecipients} recipient(s). Nothing was released.",
                    new { @event = "rehearsal", recipients = claim.RehearsalRecipients });
                return VeilCommand.Ok;
            }

            ClaimedVault vault = claim.Vault!;
            long total = vault.Items.Sum(i => i.Files.Sum(f => f.Size));
            VaultClaimResult result = await VaultCli.TransferAsync(cli.Json, "receiving", total, progress => claim.WriteToDirectoryAsync(cli.Parse(output)!, progress, ct));
            cli.Output.Event(
                $"Received vault '{VaultCli.Printable(vault.Name)}': {vault.Items.Count} item(s), {result.Files.Count} file(s), written to {result.Directory}",
                new { @event = "claimed", vaultId = vault.VaultId, name = vault.Name, items = vault.Items.Count, files = result.Files.Count, directory = result.Directory, vaultJson = result.VaultJsonPath });
            return VeilCommand.Ok;
        });
    }

    private static string ReadCode()
    {
        if (!Console.IsInputRedirected)
        {
            Console.Error.Write("Code from the email: ");
        }

        return Console.In.ReadLine()?.Trim() is { Length: > 0 } line
            ? line
            : throw new UsageException("no code given: pass --code CODE");
    }
}
