// What every account and apikey verb shares: the server URL, the stored session, password and code
// input, the Argon2 spinner, step-up on demand, and one mapping of failures to exit codes:
//   VeilApiException (problem details or network) -> one line "veil: <code>: <title>", exit 1;
//   bad input (no terminal for the password, no server) -> one line, exit 2.
using System.CommandLine;
using Spectre.Console;
using Veil.Client;
using Veil.Client.Identity;

namespace Veil.Cli.Account;

/// <summary>The options shared by the account verbs (declared once, recursive on <c>account</c> and <c>apikey</c>).</summary>
internal sealed class AccountOptions
{
    public AccountOptions(Option<bool> json)
    {
        Json = json;
        Server.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            if (value is not null && !AccountCli.TryParseServer(value, out _))
            {
                result.AddError("--server must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:5080");
            }
        });

        // Declared only to refuse it with a clear reason: a password in an argument is visible to every
        // local user (ps, /proc) and lands in shell history.
        Password.Validators.Add(result => result.AddError(
            "passwords are never taken as arguments (they would show in ps and shell history): use the prompt or --password-stdin"));
    }

    public Option<bool> Json { get; }

    public Option<string?> Server { get; } = new("--server")
    {
        Description = $"Veil server URL (default: env {AccountCli.ServerVariable}, else the last login's server, else {ServerAddress.Default})",
        HelpName = "URL",
        Recursive = true,
    };

    public Option<bool> PasswordStdin { get; } = new("--password-stdin")
    {
        Description = "Read the password from standard input (one line; a new password on the next line; then a 2FA code if one is needed)",
        Recursive = true,
    };

    public Option<string?> Password { get; } = new("--password") { Hidden = true, Recursive = true, Arity = ArgumentArity.ZeroOrOne };

    public Option<string?> Code { get; } = new("--code")
    {
        Description = "A 2FA code: 6-digit TOTP, backup code (XXXXX-XXXXXXXXXXX) or recovery code",
        HelpName = "CODE",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Server);
        command.Options.Add(PasswordStdin);
        command.Options.Add(Password);
    }
}

/// <summary>Bad command-line input found after parsing: exit 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>One invocation of an account verb.</summary>
internal sealed class AccountCli(ParseResult parse, AccountOptions options)
{
    public const string ServerVariable = "VEIL_SERVER";

    // Held until the process exits (or ReleaseSession, for a long-running listener).
    private static IDisposable? _sessionLock;

    private string? _trackedEmail;

    private bool _sessionOpened;

    public CliOutput Output { get; } = new(parse.GetValue(options.Json), Console.Out, Console.Error);

    public bool Json { get; } = parse.GetValue(options.Json);

    public SessionStore Store { get; } = SessionStore.Default();

    public PasswordReader Passwords { get; } = new(parse.GetValue(options.PasswordStdin), Console.In, Console.Error);

    /// <summary>True when people are watching: a terminal on both ends and no --json.</summary>
    public bool Interactive => !Json && !Console.IsOutputRedirected && !Console.IsInputRedirected;

    public static bool TryParseServer(string value, out Uri server)
    {
        server = null!;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return false;
        }

        server = new Uri(uri.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/");
        return true;
    }

    /// <summary>Runs a verb, mapping every expected failure to one stderr line and an exit code.</summary>
    public static Command Verb(Command command, AccountOptions options, Func<AccountCli, CancellationToken, Task<int>> run)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            var cli = new AccountCli(parse, options);
            try
            {
                var exit = await run(cli, cancellationToken);
                await cli.ShowNoticesAsync(cancellationToken);
                return exit;
            }
            catch (VeilApiException e)
            {
                cli.Output.Error(Describe(e));
                return VeilCommand.Failed;
            }
            catch (UsageException e)
            {
                cli.Output.Error(e.Message);
                return VeilCommand.BadArguments;
            }
            catch (PasswordInputException e)
            {
                cli.Output.Error(e.Message);
                return e.IsUsage ? VeilCommand.BadArguments : VeilCommand.Failed;
            }
            catch (ArgumentException e)
            {
                // The SDK's input checks (an empty link, a password over 1024 characters, …).
                cli.Output.Error(e.Message.ReplaceLineEndings(" "));
                return VeilCommand.BadArguments;
            }
            catch (Veil.Crypto.Native.NativeLibraryMissingException e)
            {
                cli.Output.Error(e.Message.ReplaceLineEndings(" "));
                return VeilCommand.Failed;
            }
        });
        return command;
    }

    public static string Describe(VeilApiException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Code == VeilApiException.NetworkCode)
        {
            // One wording for "no answer" across every verb (ServerUnreachable); the transport category adds nothing a user acts on.
            return e.Title;
        }

        var line = e.Detail is null ? $"{e.Code}: {e.Title}" : $"{e.Code}: {e.Title}: {e.Detail}";
        if (e.RetryAfter is { } retry)
        {
            line += $" (retry after {Math.Ceiling(retry.TotalSeconds)} s)";
        }

        return line.ReplaceLineEndings(" ");
    }

    /// <summary>The server for an anonymous verb: --server, else VEIL_SERVER, else the last login's, else the local default.</summary>
    public Uri AnonymousServer()
    {
        var value = ServerAddress.Resolve(parse.GetValue(options.Server));
        return TryParseServer(value, out var server)
            ? server
            : throw new UsageException($"{ServerVariable} must be an absolute http:// or https:// URL");
    }

    public static VeilClient NewClient(Uri server) =>
        new(server, new VeilClientOptions { ClientLabel = "veil-cli" });

    /// <summary>
    /// A client resuming the stored session. Each rotated refresh token is written to the session file
    /// the moment it arrives (the old one is dead from then on); a revoked session deletes the file.
    /// </summary>
    public (VeilClient Client, StoredSession Session) OpenSession()
    {
        LockSession();
        var session = Store.Load() ?? throw new VeilApiException(401, IdentityErrorCodes.NotSignedIn, "Not logged in: run 'veil account login' first");
        var requested = parse.GetValue(options.Server) ?? Environment.GetEnvironmentVariable(ServerVariable);
        if (!TryParseServer(session.Server, out var server))
        {
            throw new VeilApiException(0, IdentityErrorCodes.NotSignedIn, $"The session file {Store.FilePath} names no valid server: log in again");
        }

        if (!string.IsNullOrWhiteSpace(requested) && TryParseServer(requested, out var other) && other != server)
        {
            throw new UsageException($"logged in to {server}, not {other}: run 'veil account login --server {other}' first");
        }

        var client = NewClient(server);
        client.UseRefreshToken(session.RefreshToken);
        Track(client, session.Server, session.Email);
        return (client, session);
    }

    /// <summary>Set once this command has shown (or listed) the account's notices, so they appear once per command.</summary>
    public bool NoticesShown { get; set; }

    /// <summary>
    /// After a signed-in verb: prints the notices the account has not marked as read on stderr (stdout, also with
    /// --json, stays the verb's result). The verb's client is gone by then, so a client resumes the stored session
    /// once more (under this process's session lock). A failure here never changes the verb's exit code.
    /// </summary>
    public async Task ShowNoticesAsync(CancellationToken cancellationToken)
    {
        if (NoticesShown || !_sessionOpened || Store.Load() is null)
        {
            return;
        }

        NoticesShown = true;
        try
        {
            var (client, _) = OpenSession();
            using (client)
            {
                foreach (var notice in await new Veil.Client.Notices.NoticesClient(client).ListAsync(cancellationToken))
                {
                    Console.Error.WriteLine(NoticeCommands.Describe(notice));
                }
            }
        }
        catch (Exception e) when (e is VeilApiException or HttpRequestException
            || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A server without notices, a session revoked by the verb itself, a server gone (or slow) after the verb
            // finished: nothing to show, and the verb's own result stands.
        }
    }

    /// <summary>
    /// Lets other veil processes use the session while this one waits for a long time (`veil chat listen`); the
    /// caller must take the lock again and reload the session file before it refreshes (<see cref="RenewSessionAsync"/>).
    /// </summary>
    public static void ReleaseSession()
    {
        _sessionLock?.Dispose();
        _sessionLock = null;
    }

    /// <summary>
    /// Refreshes <paramref name="client"/>'s session after <see cref="ReleaseSession"/>: under the lock, with the
    /// refresh token another process may have rotated meanwhile, then lets go of the lock again.
    /// </summary>
    public async Task RenewSessionAsync(VeilClient client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        LockSession();
        try
        {
            var session = Store.Load() ?? throw new VeilApiException(401, IdentityErrorCodes.NotSignedIn, "Not logged in: run 'veil account login' first");
            client.UseRefreshToken(session.RefreshToken);
            await client.Identity.RefreshAsync(cancellationToken);
        }
        finally
        {
            ReleaseSession();
        }
    }

    /// <summary>Holds the session lock for the rest of this process (released when it exits).</summary>
    public void LockSession()
    {
        try
        {
            _sessionLock ??= Store.Lock(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException e)
        {
            throw new VeilApiException(0, "session-busy", e.Message);
        }
    }

    /// <summary>
    /// Keeps the session file in step with the client's newest refresh token. <paramref name="email"/> may
    /// be unknown yet (a magic link names no address): the token is saved the moment it arrives anyway, and
    /// <see cref="RememberEmail"/> fills the address in once the server has said it.
    /// </summary>
    public void Track(VeilClient client, string server, string? email)
    {
        ArgumentNullException.ThrowIfNull(client);
        LockSession();
        _trackedEmail = email;
        _sessionOpened = true;
        client.RefreshTokenChanged += (_, token) =>
        {
            if (token is null)
            {
                Store.Delete();
            }
            else
            {
                Store.Save(new StoredSession(server, _trackedEmail ?? string.Empty, token));
            }
        };
    }

    /// <summary>Records the account's current address in the session file of a tracked client.</summary>
    public void RememberEmail(VeilClient client, string server, string email)
    {
        ArgumentNullException.ThrowIfNull(client);
        _trackedEmail = email;
        if (client.RefreshToken is { } token)
        {
            Store.Save(new StoredSession(server, email, token));
        }
    }

    /// <summary>Runs a slow step (an Argon2id derivation) under a spinner on a terminal; plainly otherwise.</summary>
    public async Task<T> SlowAsync<T>(string status, Func<Task<T>> step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (!Interactive)
        {
            return await step();
        }

        return await AnsiConsole.Status().Spinner(Spinner.Known.Dots).StartAsync(status, _ => step());
    }

    public async Task SlowAsync(string status, Func<Task> step) =>
        await SlowAsync(status, async () =>
        {
            await step();
            return true;
        });

    /// <summary>A 2FA code: --code, else a prompt on a terminal, else the next stdin line with --password-stdin.</summary>
    public string ReadCode(string prompt)
    {
        if (parse.GetValue(options.Code) is { } code && !string.IsNullOrWhiteSpace(code))
        {
            return code.Trim();
        }

        if (parse.GetValue(options.PasswordStdin))
        {
            return Console.In.ReadLine()?.Trim() is { Length: > 0 } line
                ? line
                : throw new PasswordInputException($"{prompt}: standard input ended; pass --code", usage: true);
        }

        if (Console.IsInputRedirected)
        {
            throw new PasswordInputException($"{prompt} needed: pass --code", usage: true);
        }

        Console.Error.Write(prompt + ": ");
        return Console.ReadLine()?.Trim() ?? string.Empty;
    }

    public string? GivenCode() => parse.GetValue(options.Code);

    public T? Parse<T>(Option<T> option) => parse.GetValue(option);

    public T? Parse<T>(Argument<T> argument) => parse.GetValue(argument);

    /// <summary>
    /// Runs <paramref name="action"/>; when the server answers <c>step-up-required</c>, asks for the
    /// password (and a 2FA code when 2FA is on), re-authenticates the session and runs it once more.
    /// </summary>
    public Task<T> WithStepUpAsync<T>(VeilClient client, Func<Task<T>> action, CancellationToken cancellationToken) =>
        WithStepUpAsync(client, password: null, action, cancellationToken);

    /// <summary>
    /// As <see cref="WithStepUpAsync{T}(VeilClient, Func{Task{T}}, CancellationToken)"/>, for an action that
    /// itself needs the password: the step-up reuses <paramref name="password"/> instead of asking twice.
    /// </summary>
    public async Task<T> WithStepUpAsync<T>(VeilClient client, Password? password, Func<Task<T>> action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return await action();
        }
        catch (VeilApiException e) when (e.Code == IdentityErrorCodes.StepUpRequired)
        {
            var account = await client.Identity.WhoAmIAsync(cancellationToken);
            if (!Json && !Console.IsErrorRedirected)
            {
                Console.Error.WriteLine(password is null
                    ? "This needs a recent sign-in: confirm with your password."
                    : "This needs a recent sign-in: confirming with the password given.");
            }

            var read = password is null ? Passwords.Read("Password") : null;
            try
            {
                var code = account.TwoFactorEnabled ? ReadCode("Two-factor code") : null;
                var chars = (password ?? read!).Memory;
                await SlowAsync("Deriving keys (Argon2id)…", () => client.Identity.StepUpAsync(chars, code, cancellationToken));
            }
            finally
            {
                read?.Dispose();
            }

            Output.Event("Confirmed.", new { @event = "stepped-up" });
            return await action();
        }
    }

    public Task WithStepUpAsync(VeilClient client, Func<Task> action, CancellationToken cancellationToken) =>
        WithStepUpAsync(client, async () =>
        {
            await action();
            return true;
        }, cancellationToken);

    /// <summary>Which kind of code this is, by its shape.</summary>
    public static TwoFactorMethod MethodOf(string code)
    {
        var trimmed = code.Trim();
        return trimmed.Length switch
        {
            17 when trimmed[5] == '-' => TwoFactorMethod.Backup,
            23 when trimmed[5] == '-' && trimmed[11] == '-' && trimmed[17] == '-' => TwoFactorMethod.Recovery,
            _ => TwoFactorMethod.Totp,
        };
    }
}
