// `veil chat …` (issue 18, Deliver point 5): the chat client of Veil.Client.Chat on a terminal. Every verb opens the
// user key like the vault and mail verbs (the `veil vault unlock` session, else the password; --password-stdin for
// scripts), because the local chat store is sealed under a device storage key that the user key wraps.
//
//   device list|link|remove   this account's chat devices; `link` makes this machine a device (a second machine of
//                             the same account links after signing in with the master password)
//   send USER TEXT            USER is the recipient's account email
//   listen [--count N] [--timeout D]   prints messages as they arrive (one JSON object per line with --json), acks them
//   history USER              the conversation from the local encrypted store
using System.CommandLine;
using Veil.Cli.Account;
using Veil.Cli.Vault;
using Veil.Client;
using Veil.Client.Chat;
using Veil.Client.Drop;

namespace Veil.Cli.Chat;

internal static class ChatCommand
{
    public static Command Create(Option<bool> json)
    {
        var options = new AccountOptions(json);
        var chat = new Command("chat", "End-to-end encrypted chat: your devices, sending, listening and the local history");
        options.AddTo(chat);
        var device = new Command("device", "This account's chat devices (at most 6)");
        device.Subcommands.Add(DeviceList(options));
        device.Subcommands.Add(DeviceLink(options));
        device.Subcommands.Add(DeviceRemove(options));
        chat.Subcommands.Add(device);
        chat.Subcommands.Add(Send(options));
        chat.Subcommands.Add(Listen(options));
        chat.Subcommands.Add(History(options));
        chat.Subcommands.Add(Alarms(options));
        return chat;
    }

    // The vault verbs' mapping plus the chat client's own one-line failures.
    private static Command Verb(Command command, AccountOptions options, Func<AccountCli, CancellationToken, Task<int>> run) =>
        VaultCli.Verb(command, options, async (cli, ct) =>
        {
            try
            {
                return await run(cli, ct);
            }
            catch (ChatException e)
            {
                cli.Output.Error(e.Message);
                return VeilCommand.Failed;
            }
            catch (ChatStoreException e)
            {
                cli.Output.Error(e.Message);
                return VeilCommand.Failed;
            }
        });

    /// <summary>A signed-in client and a chat client holding the user key (unlock session or password).</summary>
    private static async Task<(VeilClient Client, ChatClient Chat)> OpenAsync(AccountCli cli, CancellationToken ct)
    {
        var (client, session) = cli.OpenSession();
        try
        {
            using (var unlocked = VaultUnlockSession.TryOpen(cli.Store.Directory, session.Server, session.Email, DateTimeOffset.UtcNow))
            {
                if (unlocked is not null)
                {
                    return (client, new ChatClient(client, unlocked, cli.Store.Directory));
                }
            }

            using (var password = cli.Passwords.Read("Password"))
            {
                var chars = password.Memory;
                await cli.SlowAsync("Deriving keys (Argon2id, 64 MiB)…", () => client.Identity.UnlockAsync(chars, ct));
            }

            return (client, new ChatClient(client, client.Identity.UserKey!, cli.Store.Directory));
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static Command DeviceList(AccountOptions options)
    {
        var command = new Command("list", "List this account's chat devices (* marks this machine)");
        return Verb(command, options, async (cli, ct) =>
        {
            var (client, chat) = await OpenAsync(cli, ct);
            using (client)
            using (chat)
            {
                var devices = await chat.ListDevicesAsync(ct);
                cli.Output.Table(
                    ["Device", "This machine", "Linked", "Last seen"],
                    devices.Select(d => new[] { d.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture), d.ThisDevice ? "*" : string.Empty, AccountCommand.Time(d.CreatedAt), AccountCommand.Time(d.LastSeenAt) }),
                    "No chat devices yet: veil chat device link",
                    new { devices = devices.Select(d => new { d.DeviceId, d.ThisDevice, d.CreatedAt, d.LastSeenAt }).ToList() });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command DeviceLink(AccountOptions options)
    {
        var command = new Command("link", "Make this machine a chat device of your account (keys are made here; only public halves leave)");
        return Verb(command, options, async (cli, ct) =>
        {
            var (client, chat) = await OpenAsync(cli, ct);
            using (client)
            using (chat)
            {
                var device = await chat.LinkAsync(ct);
                cli.Output.Event($"This machine is now chat device {device.DeviceId}.", new { @event = "device-linked", device.DeviceId });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command DeviceRemove(AccountOptions options)
    {
        var argument = new Argument<int>("DEVICE") { Description = "The device id (see 'veil chat device list')" };
        var command = new Command("remove", "Remove a chat device: its keys and undelivered messages are deleted on the server") { argument };
        return Verb(command, options, async (cli, ct) =>
        {
            var (client, chat) = await OpenAsync(cli, ct);
            using (client)
            using (chat)
            {
                var id = cli.Parse(argument);
                await chat.RemoveDeviceAsync(id, ct);
                cli.Output.Event($"Chat device {id} removed.", new { @event = "device-removed", deviceId = id });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Send(AccountOptions options)
    {
        var user = new Argument<string>("USER") { Description = "The recipient's account email" };
        var text = new Argument<string>("TEXT") { Description = $"The message (at most {ChatClient.MaxTextBytes} bytes)" };
        var command = new Command("send", "Send an end-to-end encrypted message to every device of USER (and your other devices)") { user, text };
        return Verb(command, options, async (cli, ct) =>
        {
            var (client, chat) = await OpenAsync(cli, ct);
            using (client)
            using (chat)
            {
                var sent = await chat.SendAsync(cli.Parse(user)!, cli.Parse(text)!, ct);
                var others = sent.OwnDevices == 0 ? string.Empty : $" and {sent.OwnDevices} of your other devices";
                var how = sent.Sealed ? "sealed"
                    : sent.Fallback == "access-key-refused" ? "not sealed: the relay refused their access key"
                    : "not sealed: they have not written to you yet";
                cli.Output.Event(
                    $"Sent to {sent.Message.PeerEmail} ({sent.RecipientDevices} device{(sent.RecipientDevices == 1 ? string.Empty : "s")}{others}; {how}).",
                    new { @event = "sent", id = sent.Message.Id, to = sent.Message.PeerEmail, devices = sent.RecipientDevices, ownDevices = sent.OwnDevices, @sealed = sent.Sealed, fallback = sent.Fallback, at = sent.Message.At });
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Listen(AccountOptions options)
    {
        var count = new Option<int?>("--count") { Description = "Stop after N messages", HelpName = "N" };
        var timeout = new Option<string?>("--timeout") { Description = "Stop after this long (30s, 5m, 1h); with --count, fewer messages than N is a failure", HelpName = "DURATION" };
        var command = new Command("listen", "Print messages as they arrive (decrypted and stored here, then acked); Ctrl-C stops") { count, timeout };
        return Verb(command, options, async (cli, ct) =>
        {
            var limit = cli.Parse(count);
            if (limit is < 1)
            {
                throw new UsageException("--count must be at least 1");
            }

            var duration = cli.Parse(timeout) is { } given ? VaultCli.ParseDuration(given, "--timeout") : (TimeSpan?)null;
            var (client, chat) = await OpenAsync(cli, ct);
            using (client)
            using (chat)
            {
                // The access token is in hand: let `veil chat send` in another terminal use the session meanwhile.
                await client.Identity.WhoAmIAsync(ct);
                AccountCli.ReleaseSession();
                chat.RenewSession = token => cli.RenewSessionAsync(client, token);
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
                if (duration is { } d)
                {
                    stop.CancelAfter(d);
                }

                var received = await chat.ListenAsync(delivery => Print(cli, delivery), limit, stop.Token);
                if (limit is { } n && received < n)
                {
                    cli.Output.Error($"{received} of {n} messages arrived within {cli.Parse(timeout)}");
                    return VeilCommand.Failed;
                }
            }

            return VeilCommand.Ok;
        });
    }

    private static Task Print(AccountCli cli, ChatDelivery delivery)
    {
        if (delivery is { Resent: true, Message: { } resent })
        {
            cli.Output.Event(
                $"Device {delivery.FromDevice} of {Name(resent)} could not decrypt your message of {AccountCommand.Time(resent.At)}: sent it again on a new session.",
                new { @event = "resent", id = resent.Id, peer = resent.Peer, peerEmail = resent.PeerEmail, device = delivery.FromDevice });
        }
        else if (delivery.Message is { } m)
        {
            var who = m.Direction == "in" ? Name(m) : $"you (device {m.Device}) to {Name(m)}";
            cli.Output.Event(
                $"[{AccountCommand.Time(m.At)}] {who}: {DropFileNames.Printable(m.Text)}",
                new { @event = "message", id = m.Id, direction = m.Direction, peer = m.Peer, peerEmail = m.PeerEmail, device = m.Device, text = m.Text, at = m.At, @sealed = delivery.Sealed });
        }
        else
        {
            cli.Output.Error(delivery.Problem == "forged-device"
                ? $"refused a message from device {delivery.FromDevice} of account {delivery.From}: its certificate does not verify under the account key you pinned (a device the relay added?); alarm stored"
                : $"a message from device {delivery.FromDevice} of account {delivery.From} could not be read ({delivery.Problem})");
            if (cli.Json)
            {
                cli.Output.Event(string.Empty, new { @event = "unreadable", from = delivery.From, fromDevice = delivery.FromDevice, problem = delivery.Problem, @sealed = delivery.Sealed });
            }
        }

        return Task.CompletedTask;
    }

    private static Command History(AccountOptions options)
    {
        var user = new Argument<string>("USER") { Description = "The other person's account email" };
        var command = new Command("history", "Show the conversation with USER from this machine's encrypted store") { user };
        return Verb(command, options, async (cli, ct) =>
        {
            var (client, chat) = await OpenAsync(cli, ct);
            using (client)
            using (chat)
            {
                var messages = await chat.HistoryAsync(cli.Parse(user)!, ct);
                cli.Output.Table(
                    ["When", "From", "Text"],
                    messages.Select(m => new[] { AccountCommand.Time(m.At), m.Direction == "in" ? Name(m) : "you", DropFileNames.Printable(m.Text) }),
                    "No messages with this person on this machine yet.",
                    new { messages = messages.Select(m => new { id = m.Id, direction = m.Direction, peer = m.Peer, peerEmail = m.PeerEmail, device = m.Device, text = m.Text, at = m.At }).ToList() });
            }

            return VeilCommand.Ok;
        });
    }

    // Alarms are kept on this machine only (the relay is what they accuse). Exit code 1 while any is listed, so a
    // script or a cron job notices; --clear forgets them once a person has looked.
    private static Command Alarms(AccountOptions options)
    {
        var clear = new Option<bool>("--clear") { Description = "Forget the listed alarms (after you have checked the devices they name)" };
        var command = new Command("alarms", "Security alarms this machine raised (e.g. a contact's device not certified by their account key)") { clear };
        return Verb(command, options, async (cli, ct) =>
        {
            var (client, chat) = await OpenAsync(cli, ct);
            using (client)
            using (chat)
            {
                var alarms = await chat.AlarmsAsync(ct);
                cli.Output.Table(
                    ["When", "Account", "Device", "Why"],
                    alarms.Select(a => new[] { AccountCommand.Time(a.At), a.Account.ToString("D"), a.Device.ToString(System.Globalization.CultureInfo.InvariantCulture), a.Reason }),
                    "No alarms on this machine.",
                    new { alarms = alarms.Select(a => new { at = a.At, account = a.Account, device = a.Device, reason = a.Reason }).ToList(), cleared = cli.Parse(clear) });
                if (cli.Parse(clear))
                {
                    await chat.ClearAlarmsAsync(ct);
                    return VeilCommand.Ok;
                }

                return alarms.Count == 0 ? VeilCommand.Ok : VeilCommand.Failed;
            }
        });
    }

    private static string Name(ChatMessage m) => m.PeerEmail ?? $"account {m.Peer}";
}
