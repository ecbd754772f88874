// `veil mail …` (issue 17, point 10, the parts of slice "mailbox"): addresses with their OpenPGP keys, the
// mailbox listing and reading (decrypted here, never on the server), deletion, and key export/import.
// Verbs that need an address key open the user key like the vault verbs do: the `veil vault unlock` session
// ($VEIL_SESSION) when there is one, else the password (--password-stdin for scripts).
using System.CommandLine;
using System.Globalization;
using Veil.Cli.Account;
using Veil.Cli.Vault;
using Veil.Client;
using Veil.Client.Drop;
using Veil.Client.Mailbox;

namespace Veil.Cli.Mail;

internal static class MailCommand
{
    private static readonly string[] ShownHeaders = ["From", "To", "Cc", "Subject", "Date"];

    public static Command Create(Option<bool> json)
    {
        var options = new AccountOptions(json);
        var mail = new Command("mail", "Your encrypted mailbox: addresses, their keys, and the mail they received");
        options.AddTo(mail);
        var address = new Command("address", "Your mail addresses (each with its own OpenPGP key pair)");
        address.Subcommands.Add(AddressAdd(options));
        address.Subcommands.Add(AddressList(options));
        address.Subcommands.Add(AddressRemove(options));
        mail.Subcommands.Add(address);
        mail.Subcommands.Add(Send(options));
        mail.Subcommands.Add(List(options));
        mail.Subcommands.Add(Read(options));
        mail.Subcommands.Add(Delete(options));
        mail.Subcommands.Add(Search(options));
        var key = new Command("key", "Export or import an address's OpenPGP secret key");
        key.Subcommands.Add(KeyExport(options));
        key.Subcommands.Add(KeyImport(options));
        mail.Subcommands.Add(key);
        mail.Subcommands.Add(Mailbox.MailDomainCommand.Create(options));
        return mail;
    }

    // The vault verbs' mapping (session, I/O and file-permission failures → one line, exit 1), plus the mailbox's own.
    private static Command Verb(Command command, AccountOptions options, Func<AccountCli, CancellationToken, Task<int>> run) =>
        VaultCli.Verb(command, options, async (cli, ct) =>
        {
            try
            {
                return await run(cli, ct);
            }
            catch (MailboxKeyException e)
            {
                cli.Output.Error(e.Message);
                return VeilCommand.Failed;
            }
        });

    /// <summary>A signed-in client with the user key open (unlock session or password).</summary>
    private static async Task<(VeilClient Client, MailboxClient Mail)> OpenWithKeysAsync(AccountCli cli, CancellationToken ct)
    {
        var (client, session) = cli.OpenSession();
        try
        {
            using (var unlocked = VaultUnlockSession.TryOpen(cli.Store.Directory, session.Server, session.Email, DateTimeOffset.UtcNow))
            {
                if (unlocked is not null)
                {
                    return (client, new MailboxClient(client, unlocked));
                }
            }

            using (var password = cli.Passwords.Read("Password"))
            {
                var chars = password.Memory;
                await cli.SlowAsync("Deriving keys (Argon2id, 64 MiB)…", () => client.Identity.UnlockAsync(chars, ct));
            }

            return (client, MailboxClient.ForSignedIn(client));
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static Command AddressAdd(AccountOptions options)
    {
        var argument = new Argument<string>("ADDRESS") { Description = "local@domain at one of the server's mail domains" };
        var command = new Command("add", "Add an address: its key pair is made here and only its public half leaves unwrapped") { argument };
        return Verb(command, options, async (cli, ct) =>
        {
            var (client, mail) = await OpenWithKeysAsync(cli, ct);
            using (client)
            using (mail)
            {
                var added = await mail.AddAddressAsync(cli.Parse(argument)!, ct);
                cli.Output.Event($"Address {added.Address} added; key fingerprint {added.Fingerprint}.", new { @event = "address-added", address = Public(added) });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command AddressList(AccountOptions options)
    {
        var command = new Command("list", "List your addresses");
        return Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            using (var mail = new MailboxClient(client))
            {
                var addresses = await mail.ListAddressesAsync(ct);
                cli.Output.Table(
                    ["Address", "Fingerprint", "Added", "Id"],
                    addresses.Select(a => new[] { a.Address, a.Fingerprint, AccountCommand.Time(a.CreatedAt), a.Id.ToString("D") }),
                    "No addresses yet: veil mail address add NAME@DOMAIN",
                    new { addresses = addresses.Select(Public).ToList() });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command AddressRemove(AccountOptions options)
    {
        var argument = new Argument<string>("ADDRESS") { Description = "The address or its id" };
        var command = new Command("remove", "Remove an address with its key and every message it received") { argument };
        return Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            using (var mail = new MailboxClient(client))
            {
                var given = cli.Parse(argument)!;
                var found = (await mail.ListAddressesAsync(ct)).FirstOrDefault(a => a.Id.ToString("D") == given || string.Equals(a.Address, given.Trim(), StringComparison.OrdinalIgnoreCase))
                    ?? throw new UsageException($"you have no address '{DropFileNames.Printable(given)}' (see 'veil mail address list')");
                await mail.RemoveAddressAsync(found.Id, ct);
                cli.Output.Event($"Address {found.Address} removed.", new { @event = "address-removed", id = found.Id, address = found.Address });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command List(AccountOptions options)
    {
        var limit = new Option<int?>("--limit") { Description = "How many messages (newest first; default 50, at most 500)", HelpName = "N" };
        var sent = new Option<bool>("--sent") { Description = "List the Sent folder (mail you sent from Veil) instead of the inbox" };
        var command = new Command("list", "List your mail (newest first), summaries decrypted here") { limit, sent };
        return Verb(command, options, async (cli, ct) =>
        {
            var (client, mail) = await OpenWithKeysAsync(cli, ct);
            using (client)
            using (mail)
            {
                var folder = cli.Parse(sent) ? "sent" : "inbox";
                var messages = await mail.ListMessagesAsync(cli.Parse(limit) ?? 50, folder, ct);
                cli.Output.Table(
                    [folder == "sent" ? "Sent" : "Received", "From", "Subject", "To", "Attachments", "Id"],
                    messages.Select(m => new[]
                    {
                        AccountCommand.Time(m.ReceivedAt), m.Summary is null ? "" : Printable(m.Summary.From), SubjectCell(m),
                        folder == "sent" && m.Summary?.To is { } to ? Printable(string.Join(", ", to)) : m.Address,
                        (m.Summary?.Attachments.Count ?? 0).ToString(CultureInfo.InvariantCulture), m.Id.ToString("D"),
                    }),
                    folder == "sent" ? "Nothing sent yet." : "No mail yet.",
                    new { folder, messages });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Read(AccountOptions options)
    {
        var argument = new Argument<Guid>("ID") { Description = "The message id (from 'veil mail list')" };
        var save = new Option<string?>("--save-attachments") { Description = "Write the attachments into this directory", HelpName = "DIR" };
        var command = new Command("read", "Fetch one message, decrypt it here and show it") { argument, save };
        return Verb(command, options, async (cli, ct) =>
        {
            var (client, mail) = await OpenWithKeysAsync(cli, ct);
            using (client)
            using (mail)
            {
                var message = await mail.ReadAsync(cli.Parse(argument), ct);
                var saved = new List<string>();
                if (cli.Parse(save) is { } directory)
                {
                    Directory.CreateDirectory(directory);
                    foreach (var attachment in message.Attachments)
                    {
                        var path = Unused(Path.Combine(directory, SafeFileName(attachment.FileName)));
                        await File.WriteAllBytesAsync(path, attachment.Content, ct);
                        saved.Add(path);
                    }

                    // Large ones: downloaded, decrypted and verified streaming to disk; a refused one leaves no file.
                    foreach (var attachment in message.LargeAttachments)
                    {
                        var path = Unused(Path.Combine(directory, SafeFileName(attachment.FileName)));
                        await mail.SaveLargeAttachmentAsync(attachment, path, ct);
                        saved.Add(path);
                    }
                }

                var signature = message.Signature switch
                {
                    "valid" => "\nSignature: valid (the sender address's key)",
                    "invalid" => "\nSignature: INVALID (the message was changed after it was signed)",
                    "unknown-signer" => "\nSignature: by a key this server does not publish for the sender",
                    _ => "",
                };
                var text = string.Join('\n', message.Headers.Where(h => ShownHeaders.Contains(h.Key, StringComparer.OrdinalIgnoreCase)).Select(h => $"{h.Key}: {Printable(h.Value)}"))
                    + signature
                    + (message.Authentication is { } verdicts ? $"\nAuthentication: {Printable(verdicts.ToString())}"
                        : message.Folder == "sent" || message.Signature != "none" ? "" // end to end from a Veil client: the signature speaks
                        : "\nAuthentication: not recorded (older mail)")
                    + "\n\n" + Printable(message.Text ?? message.Html ?? "", multiline: true)
                    + string.Concat(message.Attachments.Select(a => $"\n[attachment] {Printable(a.FileName)} ({a.Content.Length} bytes, {a.MediaType})"))
                    + string.Concat(message.LargeAttachments.Select(a => $"\n[attachment] {Printable(a.FileName)} ({a.Size} bytes, {Printable(a.MediaType)}, stored encrypted: --save-attachments DIR fetches it)"))
                    + string.Concat(saved.Select(p => $"\nsaved {p}"));
                cli.Output.Event(text, new
                {
                    @event = "message",
                    message = new
                    {
                        message.Id, message.Folder, message.Signature, message.Address, message.EnvelopeFrom, message.ReceivedAt, headers = message.Headers.Select(h => new { name = h.Key, value = h.Value }),
                        message.Text, message.Html, attachments = message.Attachments.Select(a => new { a.FileName, a.MediaType, size = (long)a.Content.Length, large = false })
                            .Concat(message.LargeAttachments.Select(a => new { a.FileName, a.MediaType, size = a.Size, large = true })), saved,
                        message.Authentication,
                    },
                });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Send(AccountOptions options)
    {
        var to = new Option<string[]>("--to") { Description = "A recipient (repeat for more): Veil addresses get end-to-end encrypted mail, others normal mail", HelpName = "ADDRESS", Required = true, AllowMultipleArgumentsPerToken = false };
        var subject = new Option<string>("--subject") { Description = "The subject (encrypted with the body for Veil recipients)", HelpName = "TEXT", Required = true };
        var body = new Option<string?>("--body") { Description = "The body text", HelpName = "TEXT" };
        var bodyFile = new Option<string?>("--body-file") { Description = "Read the body text from this file (UTF-8)", HelpName = "FILE" };
        var attach = new Option<string[]>("--attach") { Description = "Attach this file (repeat for more)", HelpName = "FILE" };
        var from = new Option<string?>("--from") { Description = "Send from this address of yours (default: your first address)", HelpName = "ADDRESS" };
        var expires = new Option<string?>("--expires") { Description = "Confidential: every copy is destroyed after this long, e.g. 1h, 1d, 2w (Veil recipients only)", HelpName = "DURATION" };
        var maxViews = new Option<int?>("--max-views") { Description = "Confidential: each recipient's copy is destroyed after this many reads (Veil recipients only)", HelpName = "N" };
        var inlineMax = new Option<long?>("--inline-max")
        {
            Description = "Attachments smaller than this many bytes travel inside the message (default 1048576); larger ones are stored encrypted on the server under keys of their own (Veil recipients only)",
            HelpName = "BYTES",
        };
        var outsiderPassword = new Option<string?>("--outsider-password-file")
        {
            Description = "Password mail: recipients outside Veil get a link to a page that opens the message with the password in this file (first line; - reads it from stdin)",
            HelpName = "FILE",
        };
        var hint = new Option<string?>("--password-hint") { Description = "A hint put in the notice mail to password recipients (in clear)", HelpName = "TEXT" };
        var command = new Command("send", "Send mail: end-to-end encrypted and signed to Veil addresses; others get normal SMTP mail, or password mail with --outsider-password-file")
        {
            to, subject, body, bodyFile, attach, from, expires, maxViews, outsiderPassword, hint, inlineMax,
        };
        return Verb(command, options, async (cli, ct) =>
        {
            var text = (cli.Parse(body), cli.Parse(bodyFile)) switch
            {
                ({ } t, null) => t,
                (null, { } file) => await File.ReadAllTextAsync(file, ct),
                _ => throw new UsageException("give the body with exactly one of --body or --body-file"),
            };
            var expiresIn = cli.Parse(expires) is { } e ? VaultCli.ParseDuration(e, "--expires") : (TimeSpan?)null;
            var views = cli.Parse(maxViews);
            if (views is < 1 or > 100)
            {
                throw new UsageException("--max-views must be from 1 to 100");
            }

            string? password = null;
            if (cli.Parse(outsiderPassword) is { } passwordFile)
            {
                // --password-stdin is the ACCOUNT password; one stdin cannot carry both.
                if (passwordFile == "-" && cli.Parse(options.PasswordStdin))
                {
                    throw new UsageException("--outsider-password-file - and --password-stdin both read stdin: give the outsider password in a file");
                }

                var line = passwordFile == "-" ? Console.In.ReadLine() : (await File.ReadAllLinesAsync(passwordFile, ct)).FirstOrDefault();
                password = line?.TrimEnd('\r', '\n');
                if (string.IsNullOrEmpty(password))
                {
                    throw new UsageException("--outsider-password-file: the first line (the password) is empty");
                }
            }
            else if (cli.Parse(hint) is not null)
            {
                throw new UsageException("--password-hint goes with --outsider-password-file");
            }

            if (password is not null && cli.Parse(hint) is { } h && h.Contains(password, StringComparison.Ordinal))
            {
                throw new UsageException("--password-hint must not contain the password (the hint is mailed in clear)");
            }

            var threshold = cli.Parse(inlineMax) ?? MailboxClient.DefaultLargeAttachmentThreshold;
            if (threshold < 1)
            {
                throw new UsageException("--inline-max must be at least 1");
            }

            // Files are read when the message is built; large ones stream from disk while they are encrypted and uploaded.
            var files = new List<MailFileAttachment>();
            foreach (var path in cli.Parse(attach) ?? [])
            {
                if (!File.Exists(path))
                {
                    throw new UsageException("no such file: " + path);
                }

                files.Add(new MailFileAttachment(path, Path.GetFileName(path), "application/octet-stream"));
            }

            var (client, mail) = await OpenWithKeysAsync(cli, ct);
            using (client)
            using (mail)
            {
                // Once this client has pinned the server's key transparency policy (veil kt verify), it encrypts only to
                // keys the log proves; before that it trusts the key directory as it always did (spec/kt.md §8).
                var trust = Veil.Client.Transparency.KtTrustStore.For(cli.Store.Directory, client.Http.BaseAddress!);
                if (trust.Policy is not null)
                {
                    mail.KeyTransparency = new Veil.Client.Transparency.KtClient(client, trust);
                }

                var result = await mail.SendAsync(new MailSendRequest(cli.Parse(to) ?? [], cli.Parse(subject)!, text)
                {
                    From = cli.Parse(from),
                    Files = files,
                    LargeAttachmentThreshold = threshold,
                    ExpiresIn = expiresIn,
                    MaxViews = views,
                    OutsiderPassword = password,
                    PasswordHint = cli.Parse(hint),
                }, ct);
                var line = $"Sent: {result.VeilRecipients.Count} end-to-end encrypted copies"
                    + (result.Outsiders.Count > 0 ? $", normal mail queued for {string.Join(", ", result.Outsiders)}" : "")
                    + (result.PasswordRecipients.Count > 0 ? $", password mail (a link by mail) for {string.Join(", ", result.PasswordRecipients)}" : "")
                    + $"; your copy is {result.SentId:D} (veil mail list --sent).";
                cli.Output.Event(line, new
                {
                    @event = "mail-sent", sentId = result.SentId, veilRecipients = result.VeilRecipients, outsiders = result.Outsiders,
                    passwordRecipients = result.PasswordRecipients,
                });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Search(AccountOptions options)
    {
        var term = new Argument<string>("TERM") { Description = "Words to find (each must match the start of a word in the subject, sender, recipients, body or an attachment name)" };
        var command = new Command("search", "Search your mail through your encrypted search index (updated here first; the server never sees the words)") { term };
        return Verb(command, options, async (cli, ct) =>
        {
            var (client, mail) = await OpenWithKeysAsync(cli, ct);
            using (client)
            using (mail)
            {
                var messages = await mail.SearchAsync(cli.Parse(term)!, ct);
                cli.Output.Table(
                    ["Date", "Folder", "From", "Subject", "Id"],
                    messages.Select(m => new[]
                    {
                        AccountCommand.Time(m.ReceivedAt), m.Folder, m.Summary is null ? "" : Printable(m.Summary.From), SubjectCell(m), m.Id.ToString("D"),
                    }),
                    "Nothing found.",
                    new { messages });
            }

            return VeilCommand.Ok;
        });
    }

    private static string SubjectCell(MailListItem m) => m.Gone switch
    {
        "expired" => "(expired)",
        "view-limit-reached" => "(view limit reached)",
        _ => Printable(m.Summary?.Subject ?? ""),
    };

    private static Command Delete(AccountOptions options)
    {
        var argument = new Argument<Guid>("ID") { Description = "The message id" };
        var command = new Command("delete", "Delete one message for good") { argument };
        return Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            using (var mail = new MailboxClient(client))
            {
                var id = cli.Parse(argument);
                await mail.DeleteMessageAsync(id, ct);
                cli.Output.Event($"Message {id:D} deleted.", new { @event = "message-deleted", id });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command KeyExport(AccountOptions options)
    {
        var argument = new Argument<string>("ADDRESS") { Description = "One of your addresses" };
        var output = new Option<string>("--output", "-o") { Description = "Write the armoured secret key to this file (mode 0600)", HelpName = "FILE", Required = true };
        var command = new Command("export", "Export an address's OpenPGP secret key, unprotected, for gpg or Thunderbird") { argument, output };
        return Verb(command, options, async (cli, ct) =>
        {
            var (client, mail) = await OpenWithKeysAsync(cli, ct);
            using (client)
            using (mail)
            {
                var armored = await mail.ExportKeyAsync(cli.Parse(argument)!, ct);
                var path = Path.GetFullPath(cli.Parse(output)!);
                var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // a secret key: the owner only
                }

                await using (var file = new FileStream(path, create))
                await using (var writer = new StreamWriter(file))
                {
                    await writer.WriteAsync(armored);
                }

                cli.Output.Event($"Secret key written to {path} (unprotected: keep it safe).", new { @event = "key-exported", path });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command KeyImport(AccountOptions options)
    {
        var argument = new Argument<string>("ADDRESS") { Description = "The new address (its key's user ID must name it)" };
        var input = new Option<string>("--key") { Description = "The OpenPGP secret key file (armoured or binary)", HelpName = "FILE", Required = true };
        var passphrase = new Option<string?>("--passphrase-env") { Description = "Name of an environment variable holding the key's passphrase, if it has one", HelpName = "VAR" };
        var command = new Command("import", "Add an address with an existing OpenPGP key pair") { argument, input, passphrase };
        return Verb(command, options, async (cli, ct) =>
        {
            var bytes = await File.ReadAllBytesAsync(cli.Parse(input)!, ct);
            var pass = cli.Parse(passphrase) is { } name ? Environment.GetEnvironmentVariable(name) : null;
            var (client, mail) = await OpenWithKeysAsync(cli, ct);
            using (client)
            using (mail)
            {
                var added = await mail.ImportAddressAsync(cli.Parse(argument)!, bytes, pass, ct);
                cli.Output.Event($"Address {added.Address} added with the imported key {added.Fingerprint}.", new { @event = "address-added", address = Public(added) });
            }

            return VeilCommand.Ok;
        });
    }

    private static object Public(MailAddressInfo a) => new { a.Id, a.Address, a.Fingerprint, a.PublicKey, a.CreatedAt };

    private static string Printable(string text, bool multiline = false) =>
        multiline ? string.Join('\n', text.ReplaceLineEndings("\n").Split('\n').Select(l => DropFileNames.Printable(l))) : DropFileNames.Printable(text);

    private static string SafeFileName(string name)
    {
        var file = Path.GetFileName(name.Replace('\\', '/'));
        file = new string([.. file.Select(c => char.IsControl(c) || Path.GetInvalidFileNameChars().Contains(c) ? '_' : c)]);
        return file is "" or "." or ".." ? "attachment" : file;
    }

    private static string Unused(string path)
    {
        var candidate = path;
        for (var n = 1; File.Exists(candidate); n++)
        {
            candidate = Path.Combine(Path.GetDirectoryName(path)!, $"{Path.GetFileNameWithoutExtension(path)} ({n}){Path.GetExtension(path)}");
        }

        return candidate;
    }
}
