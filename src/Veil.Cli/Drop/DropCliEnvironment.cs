// Where `veil drop` keeps its files and how it talks to the terminal.
//   config: $VEIL_CONFIG_DIR, else $XDG_CONFIG_HOME/veil, else ~/.config/veil   → drops.json (owner tokens, 0600)
//   cache:  $VEIL_CACHE_DIR,  else $XDG_CACHE_HOME/veil,  else ~/.cache/veil    → drop-uploads/*.json (resume state, 0600)
//   server: --server, else $VEIL_SERVER, else the last login's server, else http://127.0.0.1:5080 (ServerAddress)
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Veil.Cli.Drop;

internal static partial class DropCliEnvironment
{
    public static string ConfigDirectory => Directory("VEIL_CONFIG_DIR", "XDG_CONFIG_HOME", ".config");

    public static string CacheDirectory => Directory("VEIL_CACHE_DIR", "XDG_CACHE_HOME", ".cache");

    /// <summary>The server a verb without a link talks to (ServerAddress: never null).</summary>
    public static string Server(string? option) => ServerAddress.Resolve(option);

    /// <summary>Parses 90s, 30m, 12h, 7d, 2w.</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        Match match = DurationPattern().Match(text.Trim());
        if (!match.Success || !long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n > 100_000)
        {
            return null;
        }

        return match.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            "d" => TimeSpan.FromDays(n),
            _ => TimeSpan.FromDays(7 * n),
        };
    }

    /// <summary>True when people are watching: stdout is a terminal.</summary>
    public static bool Interactive => !Console.IsOutputRedirected;

    /// <summary>Reads a password without echo from the terminal; null when there is no terminal.</summary>
    public static string? PromptHidden(string prompt)
    {
        if (Console.IsInputRedirected)
        {
            return null;
        }

        Console.Error.Write(prompt);
        var password = new StringBuilder();
        while (true)
        {
            ConsoleKeyInfo key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (password.Length > 0)
                {
                    password.Length--;
                }

                continue;
            }

            if (!char.IsControl(key.KeyChar))
            {
                password.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return password.ToString();
    }

    /// <summary>The first line of stdin, without its line ending (the password is otherwise used exactly as given).</summary>
    public static string? ReadPasswordFromStdin()
    {
        string? line = Console.In.ReadLine();
        return line;
    }

    public static string FormatBytes(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.##} GiB"),
    };

    private static string Directory(string overrideVariable, string xdgVariable, string homeFolder)
    {
        if (Environment.GetEnvironmentVariable(overrideVariable) is { Length: > 0 } direct)
        {
            return direct;
        }

        if (Environment.GetEnvironmentVariable(xdgVariable) is { Length: > 0 } xdg && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "veil");
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), homeFolder, "veil");
    }

    [GeneratedRegex(@"^([0-9]{1,6})([smhdw])$")]
    private static partial Regex DurationPattern();
}
