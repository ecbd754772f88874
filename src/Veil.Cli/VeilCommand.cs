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
        var root = new RootCommand("Veil: a self-hostable privacy suite (aliases, drops, vault, mail, chat). Client verbs talk to --server URL, else $VEIL_SERVER, else the last login's server, else http://127.0.0.1:5080.");
        root.Options.Add(json);
        root.Subcommands.Add(ServeCommand.Create(json));
        root.Subcommands.Add(Account.AccountCommand.Create(json));
        root.Subcommands.Add(Account.ApiKeyCommand.Create(json));
        root.Subcommands.Add(Drop.DropCommand.Create(json));
        root.Subcommands.Add(Vault.VaultCommand.Create(json));
        root.Subcommands.Add(Admin.AdminCommand.Create(json));
        Alias.AliasCommand.AddTo(root, json);
        root.Subcommands.Add(Mail.MailCommand.Create(json));
        root.Subcommands.Add(Chat.ChatCommand.Create(json));
        root.Subcommands.Add(Witness.WitnessCommand.Create(json));
        root.Subcommands.Add(Kt.KtCommand.Create(json));

        if (args.Length == 0)
        {
            // Bare `veil`: the list of verbs is what a newcomer needs, not "Required command was not provided".
            return await root.Parse(["--help"]).InvokeAsync();
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            if (Suggest(parse) is { } suggestion)
            {
                await Console.Error.WriteLineAsync(suggestion);
                return BadArguments;
            }

            // One line: the most specific error (an unknown option beats "no command given").
            var error = parse.Errors.OrderBy(e => e.Message.StartsWith("Required command", StringComparison.Ordinal)).First();
            await Console.Error.WriteLineAsync($"veil: {error.Message} (see 'veil --help')");
            return BadArguments;
        }

        // The ASP.NET host handles SIGINT/SIGTERM itself (graceful shutdown); System.CommandLine's
        // own handler would race it, so it is switched off.
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    /// <summary>
    /// "veil: unknown command 'X': did you mean 'Y'?" when the first unknown word sits where a subcommand was
    /// expected and is close to one (edit distance ≤ 2, or a prefix); null otherwise.
    /// </summary>
    internal static string? Suggest(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        if (command.Subcommands.Count == 0 || parse.UnmatchedTokens.Count == 0)
        {
            return null;
        }

        var word = parse.UnmatchedTokens[0];
        if (word.StartsWith('-'))
        {
            return null;
        }

        var path = string.Join(' ', Path(parse.CommandResult));
        var names = command.Subcommands.Where(c => !c.Hidden).SelectMany(c => c.Aliases.Prepend(c.Name)).ToList();
        var close = names
            .Select(n => (Name: n, Distance: n.StartsWith(word, StringComparison.OrdinalIgnoreCase) ? 0 : Distance(word.ToLowerInvariant(), n)))
            .Where(c => c.Distance <= Math.Max(1, Math.Min(2, word.Length / 3)))
            .OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => $"'{path} {c.Name}'")
            .Take(3)
            .ToList();
        var known = close.Count > 0 ? $"did you mean {string.Join(" or ", close)}?" : $"the commands are: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}";
        return $"veil: unknown command '{word}' for '{path}': {known} (see '{path} --help')";
    }

    private static Stack<string> Path(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new Stack<string>();
        for (System.CommandLine.Parsing.SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is System.CommandLine.Parsing.CommandResult c)
            {
                names.Push(c.Command is RootCommand ? "veil" : c.Command.Name);
            }
        }

        return names;
    }

    /// <summary>Edit distance counting a swap of two neighbours as one edit ("drpo" → "drop"); the words are short.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
