using Veil.Server.Platform.Hosting;
using Veil.Server.Platform.Outbox;

namespace Veil.Server.Identity.Services;

/// <summary>Identity's notification mail, all through the one outbox. Tokens travel in the URL fragment, which browsers never send to a server.</summary>
internal sealed class IdentityMail(IMailOutbox outbox, PublicOrigin origin)
{
    private static readonly IReadOnlyDictionary<string, string> AutoSubmitted = new Dictionary<string, string> { ["Auto-Submitted"] = "auto-generated" };

    public Task SendLinkAsync(string to, string purpose, string token, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var (subject, path, what) = purpose switch
        {
            Data.EmailTokenPurposes.MagicLink => ("Your Veil sign-in link", "magic-link", "sign in to Veil"),
            Data.EmailTokenPurposes.Registration => ("Confirm your Veil account", "verify-email", "confirm this address and create your Veil account"),
            Data.EmailTokenPurposes.RecoveryEmail => ("Confirm your Veil recovery address", "verify-email", "confirm this address as your Veil recovery address"),
            _ => ("Confirm your new Veil address", "verify-email", "make this address your Veil sign-in address"),
        };
        var link = $"{Origin()}/{path}#{token}";
        var body = $"Open this link to {what}:\r\n\r\n{link}\r\n\r\nIt works once and expires in {HumanDuration.Format(lifetime)}. If you did not ask for it, ignore this message.\r\n";
        return outbox.SendAsync(new OutboxMessage(to, subject, body) { Headers = AutoSubmitted }, cancellationToken);
    }

    public Task SendNoticeAsync(string to, string subject, string text, CancellationToken cancellationToken) =>
        outbox.SendAsync(new OutboxMessage(to, subject, text + "\r\n\r\nIf this was not you, sign in and review your sessions, or contact your Veil administrator.\r\n") { Headers = AutoSubmitted }, cancellationToken);

    /// <summary>A notice with no advice to review sessions (for an address that has no account).</summary>
    public Task SendPlainAsync(string to, string subject, string text, CancellationToken cancellationToken) =>
        outbox.SendAsync(new OutboxMessage(to, subject, text + "\r\n") { Headers = AutoSubmitted }, cancellationToken);

    private string Origin() => origin.Value;
}
