// The `veil` command. Each verb is a Command built by its own class (ServeCommand, later
// DropCommand, AliasCommand, VaultCommand) and added in Build. Conventions every verb follows:
//   - exit 0 on success, 1 when the operation failed, 2 for bad arguments (one line on stderr);
//   - human-readable output by default; `--json` (recursive, valid on every verb) prints one JSON
//     object per line on stdout instead, for scripts and tests (see CliOutput).
using System.CommandLine;

namespace Veil.Cli;

internal static class VeilCommand
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadArguments = 2;

    public static async Task<int> RunAsync(string[] args)
    {
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON lines instead of text", Recursive = true };
        var root = new RootCommand("Veil: a self-hostable privacy suite (aliases, drops, vault, mail, chat).");
        root.Options.Add(json);
        root.Subcommands.Add(ServeCommand.Create(json));
        root.Subcommands.Add(Account.AccountCommand.Create(json));
        root.Subcommands.Add(Account.ApiKeyCommand.Create(json));
        root.Subcommands.Add(Drop.DropCommand.Create(json));
        root.Subcommands.Add(Vault.VaultCommand.Create(json));
        root.Subcommands.Add(Admin.AdminCommand.Create(json));
        Alias.AliasCommand.AddTo(root, json);

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line: the most specific error (an unknown option beats "no command given").
            var error = parse.Errors.OrderBy(e => e.Message.StartsWith("Required command", StringComparison.Ordinal)).First();
            await Console.Error.WriteLineAsync($"veil: {error.Message} (see 'veil --help')");
            return BadArguments;
        }

        // The ASP.NET host handles SIGINT/SIGTERM itself (graceful shutdown); System.CommandLine's
        // own handler would race it, so it is switched off.
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }
}
