// `veil drop send|get|info|delete`: end-to-end encrypted file sharing by link (spec/drop.md, spec/drop-api.md).
// Exit codes follow VeilCommand: 0 done, 1 the operation failed (one line on stderr naming the problem), 2 bad
// arguments. stdout carries results only: for `send` the link is the LAST line; the owner token goes to stderr once
// (and to the 0600 owner-token file) so that piping the link somewhere never carries the token with it.
using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using Veil.Client.Drop;
using Veil.Crypto.Drop;
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
        command.Subcommands.Add(CreateDelete(json));
        return command;
    }

    private static Option<string?> ServerOption() =>
        new("--server") { Description = "Server URL (default: $VEIL_SERVER)", HelpName = "URL" };

    private static Option<bool> PasswordStdinOption() =>
        new("--password-stdin") { Description = "Read the password from the first line of stdin" };

    private static Command CreateSend(Option<bool> json)
    {
        var file = new Argument<string>("FILE") { Description = "The file to send" };
        var expires = new Option<string>("--expires") { Description = "Lifetime after upload: 5m to 30d (s, m, h, d, w)", HelpName = "DURATION", DefaultValueFactory = _ => "7d" };
        var downloads = new Option<int?>("--downloads") { Description = "Download limit (default: unlimited until expiry)", HelpName = "N" };
        var password = new Option<bool>("--password") { Description = "Protect with a password (asked without echo); the link then carries no key" };
        var passwordStdin = PasswordStdinOption();
        var server = ServerOption();
        var noResume = new Option<bool>("--no-resume") { Description = "Keep no resume state (it holds the drop key until the upload completes)" };
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

        var command = new Command("send", "Encrypt and upload a file; prints the link as the last line") { file, expires, downloads, password, passwordStdin, server, noResume };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(json), async (output, ct) =>
        {
            string path = parse.GetValue(file)!;
            string? origin = DropCliEnvironment.Server(parse.GetValue(server));
            if (origin is null)
            {
                return Usage("no server: pass --server URL or set VEIL_SERVER");
            }

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

            using HttpClient http = CreateHttp(origin, out string normalized);
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
                    Resume = parse.GetValue(noResume) ? null : new DropResumeStore(DropCliEnvironment.CacheDirectory),
                    Owners = owners,
                    Progress = progress,
                },
                ct));

            if (output.Json)
            {
                WriteJson(new { @event = "sent", result.Link, result.Id, result.OwnerToken, result.ExpiresAt, result.ContentSize, result.Resumed, password = result.IsPasswordDrop });
            }
            else
            {
                if (result.Resumed)
                {
                    Console.Error.WriteLine("Resumed the interrupted upload.");
                }

                Console.Error.WriteLine($"Owner token (shown once; saved in {owners.FilePath}): {result.OwnerToken}");
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

            using HttpClient http = CreateHttp(resolved.Origin, out string _);
            var api = new DropApi(http);
            DropOwnerStats? stats = resolved.OwnerToken is null ? null : await api.GetOwnerStatsAsync(resolved.Id, resolved.OwnerToken, ct);
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

    private static Command CreateDelete(Option<bool> json)
    {
        var target = new Argument<string>("LINK-or-ID") { Description = "A drop link or a drop id sent from this machine" };
        var server = ServerOption();
        var command = new Command("delete", "Delete a drop you sent (needs its owner token, remembered on send)") { target, server };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(json), async (output, ct) =>
        {
            var (resolved, error) = await ResolveAsync(parse.GetValue(target)!, parse.GetValue(server), ct);
            if (resolved is null)
            {
                return Usage(error!);
            }

            if (resolved.OwnerToken is null)
            {
                throw new DropException(DropErrorCodes.NoOwnerToken, $"no owner token for drop {resolved.Id} on this machine: only the sender can delete it");
            }

            using HttpClient http = CreateHttp(resolved.Origin, out string _);
            await new DropApi(http).DeleteAsync(resolved.Id, resolved.OwnerToken, ct);
            await new DropOwnerTokenStore(DropCliEnvironment.ConfigDirectory).RemoveAsync(resolved.Id, ct);
            output.Event($"Deleted drop {resolved.Id}", new { @event = "deleted", id = resolved.Id });
            return VeilCommand.Ok;
        }));
        return command;
    }

    private sealed record Resolved(string Origin, string Id, string? OwnerToken, DropLink? Link);

    /// <summary>A link gives origin and id; a bare id is looked up among the drops sent from here, else --server/VEIL_SERVER.</summary>
    private static async Task<(Resolved? Resolved, string? Error)> ResolveAsync(string target, string? serverOption, CancellationToken ct)
    {
        DropLink? link = DropLink.TryParse(target);
        string id = link?.Id ?? target.Trim();
        if (!DropCipher.IsValidDropId(id))
        {
            return (null, "not a drop link or drop id");
        }

        OwnedDrop? owned = await new DropOwnerTokenStore(DropCliEnvironment.ConfigDirectory).FindAsync(id, ct);
        string? origin = link?.Origin ?? DropCliEnvironment.Server(serverOption) ?? owned?.Origin;
        if (origin is null)
        {
            return (null, "no server: pass a link, --server URL or set VEIL_SERVER");
        }

        bool sameServer = owned is not null && string.Equals(owned.Origin.TrimEnd('/'), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
        return (new Resolved(origin, id, sameServer ? owned!.OwnerToken : null, link), null);
    }

    private static HttpClient CreateHttp(string origin, out string normalized)
    {
        normalized = origin.Trim().TrimEnd('/');
        if (!Uri.TryCreate(normalized + "/", UriKind.Absolute, out Uri? baseAddress) || baseAddress.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"not a server URL: {origin}");
        }

        return new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromMinutes(5) };
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
