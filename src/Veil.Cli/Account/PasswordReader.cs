// Passwords reach the CLI only from a terminal prompt without echo or from standard input
// (--password-stdin, one password per line), never from an argument: arguments are visible to every
// user of the machine in `ps` and land in shell history. The prompt reads into a char array that is
// wiped after use instead of a string.
using System.Security.Cryptography;
using System.Runtime.InteropServices;

namespace Veil.Cli.Account;

/// <summary>A password typed or piped in; dispose to wipe it.</summary>
internal sealed class Password(char[] chars, int length) : IDisposable
{
    public ReadOnlySpan<char> Span => chars.AsSpan(0, length);

    public ReadOnlyMemory<char> Memory => chars.AsMemory(0, length);

    public bool IsEmpty => length == 0;

    public void Dispose() => CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(chars.AsSpan()));

    public bool SameAs(Password other) => Span.SequenceEqual(other.Span);
}

/// <summary>The password could not be read (no terminal, input ended early, mismatch).</summary>
internal sealed class PasswordInputException(string message, bool usage = false) : Exception(message)
{
    /// <summary>True when the input could not be asked for at all (no terminal, no stdin): a usage error.</summary>
    public bool IsUsage { get; } = usage;
}

internal sealed class PasswordReader(bool fromStdin, TextReader stdin, TextWriter prompts)
{
    /// <summary>Reads one password: the next line of stdin, or a no-echo prompt on the terminal.</summary>
    public Password Read(string prompt)
    {
        if (fromStdin)
        {
            var line = stdin.ReadLine() ?? throw new PasswordInputException("--password-stdin: standard input ended before the password", usage: true);
            var chars = line.ToCharArray();
            return new Password(chars, chars.Length);
        }

        if (Console.IsInputRedirected)
        {
            throw new PasswordInputException("no terminal to ask for the password: use --password-stdin", usage: true);
        }

        return Prompt(prompt);
    }

    /// <summary>A new password: from stdin once, or typed twice on a terminal.</summary>
    public Password ReadNew(string prompt)
    {
        var first = Read(prompt);
        if (fromStdin)
        {
            return first;
        }

        using var again = Prompt("Repeat " + char.ToLowerInvariant(prompt[0]) + prompt[1..]);
        if (!first.SameAs(again))
        {
            first.Dispose();
            throw new PasswordInputException("the passwords do not match");
        }

        return first;
    }

    private Password Prompt(string prompt)
    {
        prompts.Write(prompt + ": ");
        prompts.Flush();
        var buffer = new char[ClientLimits.MaxPasswordLength];
        var length = 0;
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (length > 0)
                {
                    buffer[--length] = '\0';
                }

                continue;
            }

            if (key.KeyChar != '\0' && length < buffer.Length)
            {
                buffer[length++] = key.KeyChar;
            }
        }

        prompts.WriteLine();
        return new Password(buffer, length);
    }
}

internal static class ClientLimits
{
    public const int MaxPasswordLength = Veil.Crypto.Client.ClientKeyDerivation.MaxPasswordLength;
}
