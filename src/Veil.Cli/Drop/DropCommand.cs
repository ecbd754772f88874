// `veil drop send|get|info|list|delete`: end-to-end encrypted file sharing by link (spec/drop.md, spec/drop-api.md).
// Exit codes follow VeilCommand: 0 done, 1 the operation failed (one line on stderr naming the problem), 2 bad
// arguments. stdout carries results only: for `send` the link is the LAST line; the owner token goes to stderr once
// (and to the 0600 owner-token file) so that piping the link somewhere never carries the token with it.
// Signed in (`veil account login` to the same server), `send` creates the drop as the account's (its quota, the
// signed-in expiry range of up to 30 days) and `info`/`delete` may use the session instead of the owner token.
using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using Veil.Client.Crypto;
using Veil.Client.Drop;
using Veil.Crypto.Drop;
using Veil.Crypto.Memory;
using Veil.Crypto.Streams;

namespace Veil.Cli.Drop;

internal static class DropCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public static Command Create(Option<bool> json)
    {
        var command = new Command("drop", "End-to-end encrypted file sharing by link");
        command.Subcommands.Add(CreateSend(json));
        command.Subcommands.Add(CreateGet(json));
        command.Subcommands.Add(CreateInfo(json));
        command.Subcommands.Add(CreateList(json));
        command.Subcommands.Add(CreateDelete(json));
        return command;
    }

    private static Option<string?> ServerOption() =>
        new("--server") { Description = $"Server URL (default: $VEIL_SERVER, else the last login's server, else {ServerAddress.Default})", HelpName = "URL" };

    private static Option<bool> PasswordStdinOption() =>
        new("--password-stdin") { Description = "Read the password from the first line of stdin" };

    private static Command CreateSend(Option<bool> json)
    {
        var file = new Argument<string>("FILE") { Description = "The file to send" };
        var expires = new Option<string>("--expires") { Description = "Lifetime after upload, 5m to 30d when signed in (s, m, h, d, w); anonymous drops up to the server's anonymous limit (7d unless its operator changed it)", HelpName = "DURATION", DefaultValueFactory = _ => "7d" };
        var downloads = new Option<int?>("--downloads") { Description = "Download limit (default: unlimited until expiry)", HelpName = "N" };
        var password = new Option<bool>("--password") { Description = "Protect with a password (asked without echo); the link then carries no key" };
        var passwordStdin = PasswordStdinOption();
        var server = ServerOption();
        var noResume = new Option<bool>("--no-resume") { Description = "Keep no resume state (it holds the drop key until the upload completes)" };
        var anonymous = new Option<bool>("--anonymous") { Description = "Send without the signed-in session (the drop belongs to no account)" };
        expires.Validators.Add(result =>
        {
            TimeSpan? value = DropCliEnvironment.ParseDuration(result.GetValueOrDefault<string>() ?? string.Empty);
            if (value is null || value < TimeSpan.FromMinutes(5) || value > TimeSpan.FromDays(30))
            {
                result.AddError("--expires must be a duration from 5m to 30d, e.g. 7d, 12h, 30m");
            }
        });
        downloads.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1 or > 1_000_000)
            {
                result.AddError("--downloads must be 1 to 1000000");
            }
        });

        var command = new Command("send", "Encrypt and upload a file; prints the link as the last line") { file, expires, downloads, password, passwordStdin, server, noResume, anonymous };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(json), async (output, ct) =>
        {
            string path = parse.GetValue(file)!;
            string origin = DropCliEnvironment.Server(parse.GetValue(server));
            if (!File.Exists(path))
            {
                return Usage($"no such file: {path}");
            }

            string? secret = null;
            if (parse.GetValue(passwordStdin))
            {
                secret = DropCliEnvironment.ReadPasswordFromStdin();
                if (string.IsNullOrEmpty(secret))
                {
                    return Usage("--password-stdin: stdin gave no password");
                }
            }
            else if (parse.GetValue(password))
            {
                secret = DropCliEnvironment.PromptHidden("Password: ");
                if (secret is null)
                {
                    return Usage("--password needs a terminal to ask; use --password-stdin");
                }

                if (secret.Length == 0 || DropCliEnvironment.PromptHidden("Repeat password: ") != secret)
                {
                    return Failed(output, "the passwords are empty or do not match");
                }
            }

            using DropSession? session = parse.GetValue(anonymous) ? null : DropSession.Open(origin);
            // The name key needs the user key: only from `veil vault unlock` here (a password prompt would clash with
            // --password and --password-stdin, which are the drop's own password).
            using SecretBytes? userKey = session is null ? null : await session.UserKeyAsync(null, ct);
            using HttpClient http = CreateHttp(origin, out string normalized, session);
            var sender = new DropSender(new DropApi(http), normalized);
            long total = Cobblestone256.GetCiphertextLength(new FileInfo(path).Length);
            var owners = new DropOwnerTokenStore(DropCliEnvironment.ConfigDirectory);
            DropSendResult result = await new TransferDisplay(output.Json, "sending").RunAsync(total, progress => sender.SendAsync(
                new DropSendOptions
                {
                    FilePath = path,
                    Expires = DropCliEnvironment.ParseDuration(parse.GetValue(expires)!)!.Value,
                    MaxDownloads = parse.GetValue(downloads),
                    Password = secret,
                    OwnerUserKey = userKey,
                    Resume = parse.GetValue(noResume) ? null : new DropResumeStore(DropCliEnvironment.CacheDirectory),
                    Owners = owners,
                    Progress = progress,
                },
                ct));

            if (output.Json)
            {
                WriteJson(new { @event = "sent", result.Link, result.Id, result.OwnerToken, result.ExpiresAt, result.ContentSize, result.Resumed, password = result.IsPasswordDrop, owned = session is not null, nameKept = userKey is not null });
            }
            else
            {
                if (result.Resumed)
                {
                    Console.Error.WriteLine("Resumed the interrupted upload.");
                }

                Console.Error.WriteLine($"Owner token (shown once; saved in {owners.FilePath}): {result.OwnerToken}");
                Console.Error.WriteLine(session is null ? "Sent anonymously." : $"Sent as {session.Email}: the drop counts against your account.");
                if (session is not null)
                {
                    Console.Error.WriteLine(userKey is not null
                        ? "Its name is kept for your account, encrypted with your user key ('veil drop list' shows it)."
                        : "Its name is only in the link ('veil vault unlock' first to keep names readable in 'veil drop list').");
                }
                if (result.ExpiresAt is { } expiresAt)
                {
                    Console.Error.WriteLine($"Expires {expiresAt:u}.{(result.IsPasswordDrop ? " The link carries no key: share the password separately." : string.Empty)}");
                }

                Console.Out.WriteLine(result.Link);
            }

            return VeilCommand.Ok;
        }));
        return command;
    }

    private static Command CreateGet(Option<bool> json)
    {
        var link = new Argument<string>("LINK") { Description = "The drop link, {origin}/d/{id}#{key}" };
        var directory = new Option<string>("--output", "-o") { Description = "Directory to save into (default: the current directory)", HelpName = "DIR", DefaultValueFactory = _ => "." };
        var passwordStdin = PasswordStdinOption();
        var command = new Command("get", "Download and decrypt a drop into a directory, under its original (sanitised) name") { link, directory, passwordStdin };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(json), async (output, ct) =>
        {
            DropLink? parsed = DropLink.TryParse(parse.GetValue(link));
            if (parsed is null)
            {
                return Usage("not a drop link: expected {origin}/d/{id}#{key}");
            }

            string dir = parse.GetValue(directory)!;
            if (!Directory.Exists(dir))
            {
                return Usage($"no such directory: {dir}");
            }

            bool fromStdin = parse.GetValue(passwordStdin);
            using HttpClient http = CreateHttp(parsed.Origin, out string _);
            var receiver = new DropReceiver(new DropApi(http));
            using OpenedDrop drop = await receiver.OpenAsync(parsed, _ => Task.FromResult(fromStdin
                ? DropCliEnvironment.ReadPasswordFromStdin()
                : DropCliEnvironment.PromptHidden("Password: ")), ct);
            DropGetResult result = await new TransferDisplay(output.Json, "receiving").RunAsync(drop.Info.ContentSize, progress => receiver.DownloadAsync(drop, dir, progress, ct));
            if (output.Json)
            {
                WriteJson(new { @event = "received", path = result.Path, name = Path.GetFileName(result.Path), size = result.Metadata.Size, type = result.Metadata.MediaType, nameChanged = result.NameChanged });
            }
            else
            {
                if (result.NameChanged)
                {
                    // The sender's name is not echoed: it may hold terminal escapes.
                    Console.Error.WriteLine("The sender's file name was unsafe or taken here, so it was changed.");
                }

                Console.Out.WriteLine($"Saved {result.Path} ({DropCliEnvironment.FormatBytes(result.Metadata.Size)})");
            }

            return VeilCommand.Ok;
        }));
        return command;
    }

    private static Command CreateInfo(Option<bool> json)
    {
        var target = new Argument<string>("LINK-or-ID") { Description = "A drop link or a drop id sent from this machine" };
        var server = ServerOption();
        var command = new Command("info", "Show a drop's state, downloads and expiry (name and size too when the link has the key)") { target, server };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(json), async (output, ct) =>
        {
            var (resolved, error) = await ResolveAsync(parse.GetValue(target)!, parse.GetValue(server), ct);
            if (resolved is null)
            {
                return Usage(error!);
            }

            using DropSession? session = resolved.OwnerToken is null ? DropSession.Open(resolved.Origin, required: false) : null;
            using HttpClient http = CreateHttp(resolved.Origin, out string _, session);
            var api = new DropApi(http);
            DropOwnerStats? stats = resolved.OwnerToken is null && session is null ? null : await OwnerStatsOrNullAsync(api, resolved.Id, resolved.OwnerToken, session is not null, ct);
            DropInfo? info = null;
            DropMetadata? metadata = null;
            try
            {
                info = await api.GetInfoAsync(resolved.Id, ct);
                using DropKey? key = resolved.Link?.Key();
                if (key is not null)
                {
                    var (status, opened) = DropCipher.DecryptMetadata(key, resolved.Id, System.Buffers.Text.Base64Url.DecodeFromChars(info.Metadata));
                    metadata = status == DropOpenStatus.Ok ? opened : throw new DropException(DropErrorCodes.WrongKey, "wrong key: the key in the link does not open this drop (or the drop was tampered with)");
                }
            }
            catch (DropException) when (stats is not null)
            {
                // The owner still sees stats for an expired or used-up drop; the public info is gone.
            }

            string state = stats?.State ?? "available";
            if (output.Json)
            {
                WriteJson(new
                {
                    @event = "info", id = resolved.Id, state, expiresAt = stats?.ExpiresAt ?? info?.ExpiresAt, downloads = stats?.Downloads,
                    maxDownloads = stats?.MaxDownloads, contentSize = stats?.ContentSize ?? info?.ContentSize, password = info?.Password is not null,
                    name = metadata?.Name, size = metadata?.Size, type = metadata?.MediaType, owner = stats is not null,
                });
                return VeilCommand.Ok;
            }

            Console.Out.WriteLine($"Drop {resolved.Id}");
            if (metadata is not null)
            {
                Console.Out.WriteLine($"  name:      {DropFileNames.Printable(metadata.Name)}");
                Console.Out.WriteLine($"  size:      {DropCliEnvironment.FormatBytes(metadata.Size)}");
                Console.Out.WriteLine($"  type:      {(metadata.MediaType.Length == 0 ? "unknown" : DropFileNames.Printable(metadata.MediaType))}");
            }

            Console.Out.WriteLine($"  state:     {state}");
            if (stats is not null)
            {
                Console.Out.WriteLine($"  downloads: {stats.Downloads}{(stats.MaxDownloads is { } max ? $" of {max}" : " (no limit)")}");
            }

            if ((stats?.ExpiresAt ?? info?.ExpiresAt) is { } expires)
            {
                Console.Out.WriteLine($"  expires:   {expires:u}");
            }

            if (info is not null)
            {
                Console.Out.WriteLine($"  password:  {(info.Password is null ? "no" : "yes")}");
            }

            return VeilCommand.Ok;
        }));
        return command;
    }

    private static Command CreateList(Option<bool> json)
    {
        var server = ServerOption();
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the master password from the first line of stdin, to show the names of your account's drops (else $VEIL_SESSION from 'veil vault unlock' is used)" };
        var command = new Command("list", "List your account's drops (when logged in to the server) and the drops sent from this machine, with their state") { server, passwordStdin };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(json), async (output, ct) =>
        {
            var rows = new List<DropListRow>();
            var origin = DropCliEnvironment.Server(parse.GetValue(server));
            using (DropSession? session = DropSession.Open(origin))
            {
                if (session is not null)
                {
                    rows.AddRange(await AccountRowsAsync(session, origin, parse.GetValue(passwordStdin), ct));
                }
                else if (parse.GetValue(passwordStdin))
                {
                    return Usage("--password-stdin opens the names of your account's drops: run 'veil account login' first");
                }
            }

            var listed = rows.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
            var owned = await new DropOwnerTokenStore(DropCliEnvironment.ConfigDirectory).LoadAsync(ct);
            foreach (var group in owned.Where(d => !listed.Contains(d.Id)).GroupBy(d => d.Origin.TrimEnd('/'), StringComparer.OrdinalIgnoreCase))
            {
                using HttpClient http = CreateHttp(group.Key, out string _);
                var api = new DropApi(http);
                foreach (var drop in group.OrderBy(d => d.CreatedAt))
                {
                    try
                    {
                        var stats = await api.GetOwnerStatsAsync(drop.Id, drop.OwnerToken, ct);
                        rows.Add(new DropListRow(drop.Id, group.Key, stats.State ?? (stats.Finalized ? "available" : "uploading"), stats.Downloads, stats.MaxDownloads, stats.ExpiresAt, drop.CreatedAt, false, null, null, "link-only"));
                    }
                    catch (DropException e) when (e.Code is DropErrorCodes.NotFound or DropErrorCodes.Unreachable)
                    {
                        // A purged drop, or a server that is down: still listed, so its token can be found or removed.
                        rows.Add(new DropListRow(drop.Id, group.Key, e.Code == DropErrorCodes.NotFound ? "gone" : "server unreachable", null, null, null, drop.CreatedAt, false, null, null, "link-only"));
                    }
                }
            }

            if (output.Json)
            {
                WriteJson(new { @event = "drops", drops = rows });
                return VeilCommand.Ok;
            }

            new CliOutput(json: false, Console.Out, Console.Error).Table(
                ["ID", "NAME", "SIZE", "STATE", "DOWNLOADS", "EXPIRES", "SENT", "SERVER"],
                rows.Select(r => new[]
                {
                    r.Id,
                    r.NameStatus switch
                    {
                        "shown" => DropFileNames.Printable(r.Name),
                        "locked" => "(locked: veil vault unlock)",
                        "unreadable" => "(does not open)",
                        _ => "(only in the link)",
                    },
                    r.Size is { } size ? DropCliEnvironment.FormatBytes(size) : "-",
                    r.State,
                    r.Downloads is { } n ? (r.MaxDownloads is { } max ? $"{n} of {max}" : $"{n}") : "-",
                    r.ExpiresAt?.ToString("u", System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                    r.SentAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture),
                    r.Server,
                }),
                "No drops in your account or sent from this machine.",
                rows);
            return VeilCommand.Ok;
        }));
        return command;
    }

    /// <summary>
    /// The account's drops from <c>GET /api/v1/drops</c>, names opened with the user key (spec/drop.md §8). Without the
    /// user key a drop that has a name key is "locked"; one sent without it (anonymously, before names were kept, or
    /// from a client that could not reach the user key) has its name only in the link.
    /// </summary>
    private static async Task<IEnumerable<DropListRow>> AccountRowsAsync(DropSession session, string origin, bool passwordFromStdin, CancellationToken ct)
    {
        using HttpClient http = CreateHttp(origin, out string normalized, session);
        var drops = (await new DropApi(http).ListOwnedAsync(ct)).Drops;
        using SecretBytes? userKey = drops.Any(d => d.NameKey is not null)
            ? await session.UserKeyAsync(passwordFromStdin ? DropCliEnvironment.ReadPasswordFromStdin : null, ct)
            : null;
        return drops.Select(d =>
        {
            DropMetadata? metadata = null;
            string status = d.NameKey is null || d.Metadata is null ? "link-only" : userKey is null ? "locked" : "unreadable";
            if (status == "unreadable" && System.Buffers.Text.Base64Url.IsValid(d.Metadata))
            {
                metadata = DropNameKey.TryOpenMetadata(userKey!, d.NameKey, d.Id, System.Buffers.Text.Base64Url.DecodeFromChars(d.Metadata));
                status = metadata is null ? "unreadable" : "shown";
            }

            return new DropListRow(d.Id, normalized, d.State, d.Downloads, d.MaxDownloads, d.ExpiresAt, d.CreatedAt, true, metadata?.Name, metadata?.Size, status);
        }).ToList();
    }

    /// <summary>A line of <c>veil drop list</c>; <see cref="NameStatus"/>: shown, locked, unreadable or link-only.</summary>
    private sealed record DropListRow(
        string Id, string Server, string State, int? Downloads, int? MaxDownloads, DateTimeOffset? ExpiresAt, DateTimeOffset SentAt,
        bool Account, string? Name, long? Size, string NameStatus);

    private static Command CreateDelete(Option<bool> json)
    {
        var target = new Argument<string>("LINK-or-ID") { Description = "A drop link or a drop id" };
        var server = ServerOption();
        var ownerToken = new Option<string?>("--owner-token")
        {
            Description = "The owner token printed when the drop was sent (needed when it was sent from elsewhere, e.g. the browser, and you are not signed in as its owner)",
            HelpName = "TOKEN",
        };
        var command = new Command("delete", "Delete a drop you sent: by the owner token remembered on send, --owner-token, or your signed-in session") { target, server, ownerToken };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(json), async (output, ct) =>
        {
            var (resolved, error) = await ResolveAsync(parse.GetValue(target)!, parse.GetValue(server), ct);
            if (resolved is null)
            {
                return Usage(error!);
            }

            string? token = parse.GetValue(ownerToken)?.Trim() is { Length: > 0 } given ? given : resolved.OwnerToken;
            using DropSession? session = token is null ? DropSession.Open(resolved.Origin, required: false) : null;
            if (token is null && session is null)
            {
                throw new DropException(DropErrorCodes.NoOwnerToken, $"no owner token for drop {resolved.Id} on this machine: pass --owner-token TOKEN (printed when it was sent), or log in as the account that sent it");
            }

            using HttpClient http = CreateHttp(resolved.Origin, out string _, session);
            await new DropApi(http).DeleteAsync(resolved.Id, token, ct);
            await new DropOwnerTokenStore(DropCliEnvironment.ConfigDirectory).RemoveAsync(resolved.Id, ct);
            output.Event($"Deleted drop {resolved.Id}", new { @event = "deleted", id = resolved.Id });
            return VeilCommand.Ok;
        }));
        return command;
    }

    private static async Task<DropOwnerStats?> OwnerStatsOrNullAsync(DropApi api, string id, string? ownerToken, bool signedIn, CancellationToken ct)
    {
        try
        {
            return await api.GetOwnerStatsAsync(id, ownerToken, ct);
        }
        catch (DropException e) when (ownerToken is null && signedIn && e.Code is DropErrorCodes.NotOwner or "unauthorized" or "forbidden")
        {
            // Signed in, but not as this drop's owner: show the public info only.
            return null;
        }
    }

    private sealed record Resolved(string Origin, string Id, string? OwnerToken, DropLink? Link);

    /// <summary>A link gives origin and id; a bare id: --server/VEIL_SERVER, else where it was sent from here, else the default server.</summary>
    private static async Task<(Resolved? Resolved, string? Error)> ResolveAsync(string target, string? serverOption, CancellationToken ct)
    {
        DropLink? link = DropLink.TryParse(target);
        string id = link?.Id ?? target.Trim();
        if (!DropCipher.IsValidDropId(id))
        {
            return (null, "not a drop link or drop id");
        }

        OwnedDrop? owned = await new DropOwnerTokenStore(DropCliEnvironment.ConfigDirectory).FindAsync(id, ct);
        string origin = link?.Origin
            ?? (ServerAddress.Named(serverOption) ? DropCliEnvironment.Server(serverOption) : owned?.Origin ?? DropCliEnvironment.Server(serverOption));

        bool sameServer = owned is not null && string.Equals(owned.Origin.TrimEnd('/'), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
        return (new Resolved(origin, id, sameServer ? owned!.OwnerToken : null, link), null);
    }

    private static HttpClient CreateHttp(string origin, out string normalized, DropSession? session = null)
    {
        normalized = origin.Trim().TrimEnd('/');
        if (!Uri.TryCreate(normalized + "/", UriKind.Absolute, out Uri? baseAddress) || baseAddress.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"not a server URL: {origin}");
        }

        return session is null
            ? new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(5) }
            : new HttpClient(session.Handler(), disposeHandler: true) { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(5) };
    }

    private static void WriteJson(object value)
    {
        Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));
        Console.Out.Flush();
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"veil: {message}");
        return VeilCommand.BadArguments;
    }

    /// <summary>Runs a verb with Ctrl-C/SIGTERM cancellation and the exit-code mapping.</summary>
    private static async Task<int> RunAsync(bool json, Func<DropOutput, CancellationToken, Task<int>> verb)
    {
        using var cancellation = new CancellationTokenSource();
        // System.CommandLine's own signal handling is off (see VeilCommand), so the verb takes SIGINT/SIGTERM itself:
        // cancelling lets `get` delete its temporary file and `send` keep its resume state consistent.
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        var output = new DropOutput(json, new CliOutput(json, Console.Out, Console.Error));
        try
        {
            return await verb(output, cancellation.Token);
        }
        catch (DropException ex)
        {
            output.Error(ex.Message);
            return VeilCommand.Failed;
        }
        catch (UsageException ex)
        {
            return Usage(ex.Message);
        }
        catch (Veil.Client.VeilApiException ex)
        {
            // The signed-in session failed (ended, revoked, server unreachable while refreshing).
            output.Error(Account.AccountCli.Describe(ex));
            return VeilCommand.Failed;
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            output.Error("cancelled");
            return VeilCommand.Failed;
        }
        catch (IOException ex)
        {
            output.Error(ex.Message);
            return VeilCommand.Failed;
        }
        catch (UnauthorizedAccessException ex)
        {
            output.Error(ex.Message);
            return VeilCommand.Failed;
        }

        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            cancellation.Cancel();
        }
    }

    private sealed class UsageException(string message) : Exception(message);

    private sealed class DropOutput(bool json, CliOutput inner)
    {
        public bool Json { get; } = json;

        public void Event<T>(string text, T data) => inner.Event(text, data);

        public void Error(string line) => inner.Error(line);
    }

    private static int Failed(DropOutput output, string message)
    {
        output.Error(message);
        return VeilCommand.Failed;
    }
}
