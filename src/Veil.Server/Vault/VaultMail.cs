// Vault's notification mail, all through the one outbox. The owner hears about every stage
// (reminders, release, each claim, rehearsals); recipients get only their link and their code.
// Mail never carries vault content: the server has none it could read.
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Hosting;
using Veil.Server.Platform.Outbox;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Vault;

internal sealed class VaultMail(IMailOutbox outbox, PublicOrigin origin)
{
    private static readonly IReadOnlyDictionary<string, string> AutoSubmitted = new Dictionary<string, string> { ["Auto-Submitted"] = "auto-generated" };

    /// <summary>The owner's sign-in address (field-decrypted by the context), or null if the account is gone.</summary>
    public static Task<string?> OwnerAddressAsync(VeilDbContext db, Guid ownerId, CancellationToken cancellationToken) =>
        db.Set<Account>().AsNoTracking().Where(a => a.Id == ownerId).Select(a => (string?)a.Email).FirstOrDefaultAsync(cancellationToken);

    public string Origin() => origin.Value;

    public Task SendReminderAsync(string to, VaultReminderKind kind, VaultSwitch s, string checkInToken, CancellationToken cancellationToken)
    {
        var when = kind switch
        {
            VaultReminderKind.Deadline => "Your check-in deadline has passed.",
            VaultReminderKind.HalfGrace => "You are half-way through the grace period.",
            _ => "Your vault will be released to its recipients within 24 hours.",
        };
        var body = $"{when}\r\n\r\nIf nothing is done, your vault is released to the people you chose on {Format(s.ReleaseAt)}.\r\n\r\n"
            + $"To check in, open this link and press the button:\r\n\r\n{Origin()}/vault/checkin/{checkInToken}\r\n\r\n"
            + "You can also check in with `veil vault switch checkin`, or pause or cancel the switch.\r\n";
        return SendAsync(to, "Veil: check in to keep your vault private", body, cancellationToken);
    }

    public Task SendReleasedToOwnerAsync(string to, DateTimeOffset at, int recipients, CancellationToken cancellationToken) =>
        SendAsync(to, "Veil: your vault was released",
            $"You did not check in before the end of the grace period, so your vault was released on {Format(at)}.\r\n\r\n"
            + $"{recipients} recipient(s) were each sent a personal link. Remove a recipient to revoke their link before it is claimed.\r\n",
            cancellationToken);

    public Task SendLinkToRecipientAsync(string to, string token, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        SendAsync(to, "Veil: a vault was left to you",
            "Someone chose you to receive their Veil vault if they stopped checking in, and they have.\r\n\r\n"
            + $"Your personal link (it works once, until {Format(expiresAt)}):\r\n\r\n{Origin()}/vault/claim/{token}\r\n\r\n"
            + "Open it in your web browser; there is nothing to install. The page asks for a 6-digit code, which is sent to this address "
            + "when you ask for it, and opens the vault in the page. (Or, on the command line: `veil vault claim <link>`.)\r\n",
            cancellationToken);

    public Task SendRehearsalLinkAsync(string to, string token, DateTimeOffset expiresAt, int recipients, CancellationToken cancellationToken) =>
        SendAsync(to, "Veil: rehearsal of your vault delivery",
            $"This is a rehearsal: it shows what each of your {recipients} recipient(s) would receive. Nothing is released.\r\n\r\n"
            + $"Rehearsal link (works once, until {Format(expiresAt)}):\r\n\r\n{Origin()}/vault/claim/{token}\r\n\r\n"
            + "Open it in your web browser (or with `veil vault claim <link>`); the code goes to you, never to a recipient.\r\n",
            cancellationToken);

    public Task SendCodeAsync(string to, string code, bool rehearsal, CancellationToken cancellationToken) =>
        SendAsync(to, rehearsal ? "Veil: your rehearsal code" : "Veil: your vault code",
            $"Your code: {code}\r\n\r\nIt is valid for {HumanDuration.Format(VaultLimits.CodeLifetime)}. Five wrong codes lock the link for good. If you did not ask for it, ignore this message.\r\n",
            cancellationToken);

    public Task SendClaimedToOwnerAsync(string to, bool rehearsal, CancellationToken cancellationToken) =>
        SendAsync(to, rehearsal ? "Veil: your rehearsal link was used" : "Veil: a recipient opened your vault",
            rehearsal
                ? "Your rehearsal link was claimed with its code. No key and no item was handed out.\r\n"
                : "One of your recipients claimed their link with the emailed code and received the vault.\r\n",
            cancellationToken);

    public Task SendRecipientAddedAsync(string to, string? owner, CancellationToken cancellationToken) =>
        SendAsync(to, "Veil: you were chosen to receive a vault",
            $"{(owner is null ? "A Veil user" : owner)} added you as a recipient of their Veil vault.\r\n\r\n"
            + "Nothing is shared now. If they ever stop checking in, the vault is released to you: you will then get a personal link "
            + "at this address, and a 6-digit code when you open it. Until then there is nothing to do.\r\n\r\n"
            + "If you do not know the sender, you can ignore this message.\r\n",
            cancellationToken);

    private Task SendAsync(string to, string subject, string body, CancellationToken cancellationToken) =>
        outbox.SendAsync(new OutboxMessage(to, subject, body) { Headers = AutoSubmitted }, cancellationToken);

    private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
