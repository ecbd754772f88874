// What every `veil vault` verb shares: the signed-in session (the account plumbing), the password that opens the user
// key for this one run — or the session `veil vault unlock` started (VaultUnlockSession, $VEIL_SESSION) — VAULT/ITEM arguments given as an id or an exact name, text
// that came out of a vault made safe for a terminal, and one mapping of vault failures to exit codes:
//   VaultException ("tampered", …) and file errors -> "veil: <message>", exit 1 (the account mapping does the rest).
using System.CommandLine;
using Veil.Cli.Account;
using Veil.Client;
using Veil.Client.Drop;
using Veil.Client.Vault;
using Veil.Crypto.Vault;

namespace Veil.Cli.Vault;

/// <summary>One run of a vault verb: a session, and the vault keys once the password has opened them.</summary>
internal sealed class VaultRun(AccountCli cli, VeilClient client, VaultClient? vaults) : IDisposable
{
    public AccountCli Cli { get; } = cli;

    public VeilClient Client { get; } = client;

    /// <summary>The keyed client; null for verbs that need no key.</summary>
    private VaultClient? _keyless;

    public VaultClient Vaults => vaults ?? throw new InvalidOperationException("this verb did not open the vault keys");

    /// <summary>The keyed client if the keys are open, else one without keys (for calls that send no ciphertext).</summary>
    public VaultClient Api => vaults ?? (_keyless ??= new VaultClient(Client, VaultSession.Empty()));

    public void Dispose()
    {
        vaults?.Lock();
        _keyless?.Lock();
        Client.Dispose();
    }
}

internal static class VaultCli
{
    private const string Deriving = "Deriving keys (Argon2id, 64 MiB)…";

    /// <summary>
    /// Runs a vault verb through the account plumbing (exit codes, session file, refresh rotation), adding the
    /// vault-specific failures: a tampered ciphertext and file-system errors are exit 1 with one line.
    /// </summary>
    public static Command Verb(Command command, AccountOptions options, Func<AccountCli, CancellationToken, Task<int>> run) =>
        AccountCli.Verb(command, options, async (cli, ct) =>
        {
            try
            {
                return await run(cli, ct);
            }
            catch (VaultException e)
            {
                cli.Output.Error(e.Message.ReplaceLineEndings(" "));
                return VeilCommand.Failed;
            }
            catch (VaultLockedException e)
            {
                cli.Output.Error(e.Message);
                return VeilCommand.Failed;
            }
            catch (VaultSessionException e)
            {
                cli.Output.Error(e.Message);
                return VeilCommand.Failed;
            }
            catch (IOException e)
            {
                cli.Output.Error(e.Message.ReplaceLineEndings(" "));
                return VeilCommand.Failed;
            }
            catch (UnauthorizedAccessException e)
            {
                cli.Output.Error(e.Message.ReplaceLineEndings(" "));
                return VeilCommand.Failed;
            }
        });

    /// <summary>
    /// Opens the stored session; with <paramref name="keys"/>, asks for the password (prompt, or the first stdin line with
    /// --password-stdin) and opens the user key for this run only.
    /// </summary>
    public static async Task<VaultRun> OpenAsync(AccountCli cli, bool keys, CancellationToken ct, bool useUnlockSession = true)
    {
        var (client, session) = cli.OpenSession();
        if (!keys)
        {
            return new VaultRun(cli, client, null);
        }

        try
        {
            // `veil vault unlock` left the user key sealed under $VEIL_SESSION: no password this run.
            using (var unlocked = useUnlockSession ? VaultUnlockSession.TryOpen(cli.Store.Directory, session.Server, session.Email, DateTimeOffset.UtcNow) : null)
            {
                if (unlocked is not null)
                {
                    return new VaultRun(cli, client, new VaultClient(client, VaultSession.ForOwner(unlocked)));
                }
            }

            using (var password = cli.Passwords.Read("Password"))
            {
                var chars = password.Memory;
                await cli.SlowAsync(Deriving, () => client.Identity.UnlockAsync(chars, ct));
            }

            // The vault session keeps its own copy of the user key; the identity client's copy is wiped when the
            // run disposes the client, and the vault session's when the run locks it.
            return new VaultRun(cli, client, VaultClient.ForSignedIn(client));
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>A vault id as given, or the one vault whose decrypted name is exactly <paramref name="given"/>.</summary>
    public static async Task<string> ResolveVaultAsync(VaultRun run, string given, CancellationToken ct)
    {
        if (VaultIds.IsValid(given))
        {
            return given;
        }

        var matches = (await run.Vaults.ListVaultsAsync(ct)).Where(v => v.Name == given).ToList();
        return matches.Count switch
        {
            1 => matches[0].Id,
            0 => throw new UsageException($"no vault named '{Printable(given)}' (give its name exactly, or its id from 'veil vault list')"),
            _ => throw new UsageException($"{matches.Count} vaults are named '{Printable(given)}': give the id from 'veil vault list'"),
        };
    }

    /// <summary>An item id as given, or the one item whose decrypted title is exactly <paramref name="given"/>.</summary>
    public static async Task<VaultItem> ResolveItemAsync(VaultRun run, string vaultId, string given, CancellationToken ct)
    {
        if (VaultIds.IsValid(given))
        {
            return await run.Vaults.GetItemAsync(vaultId, given, ct);
        }

        var matches = (await run.Vaults.ListItemsAsync(vaultId, ct)).Where(i => i.Title == given).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new UsageException($"no item titled '{Printable(given)}' in this vault"),
            _ => throw new UsageException($"{matches.Count} items are titled '{Printable(given)}': give the id from 'veil vault item list'"),
        };
    }

    /// <summary>Whether a VAULT argument needs the keys to be resolved (a name, not an id).</summary>
    public static bool NeedsKeys(string given) => !VaultIds.IsValid(given);

    /// <summary>Text that came out of a vault, safe to print on a terminal (no control or format characters).</summary>
    public static string Printable(string? text) => DropFileNames.Printable(text);

    /// <summary>Parses a duration like 30d, 12h, 2w (s, m, h, d, w).</summary>
    public static TimeSpan ParseDuration(string text, string option) =>
        Drop.DropCliEnvironment.ParseDuration(text) ?? throw new UsageException($"{option} must be a duration like 30d, 12h or 2w");

    /// <summary>The progress display of a file transfer (a bar on a terminal, like `veil drop`).</summary>
    public static Task<T> TransferAsync<T>(bool json, string verb, long total, Func<IProgress<VaultTransferProgress>, Task<T>> work) =>
        new Drop.TransferDisplay(json, verb).RunAsync(total, progress => work(new ProgressAdapter(progress)));

    private sealed class ProgressAdapter(IProgress<DropProgress> inner) : IProgress<VaultTransferProgress>
    {
        public void Report(VaultTransferProgress value) => inner.Report(new DropProgress(value.Done, value.Total));
    }
}
