// The embedded default's next hop, in development only: with no smarthost (Veil:Mail:Smarthost), the outbound queue
// "delivers" each message by writing it to <data>/outbox as an .eml file, beside the notification mail
// FileMailOutbox writes there. So a newcomer who sends mail to an alias sees the forwarded copy (rewritten, tracker-
// free, DKIM-signed exactly as it would leave) instead of mail waiting in the spool with no sign of it.
// A Return-Path and one Delivered-To per recipient are prepended, as a final delivery agent does (RFC 5321
// §4.4); neither is among the signed fields, so the DKIM signature still verifies over the file.
// Written through OutboxFiles: atomically, mode 0600.
// In production Veil refuses to start with alias domains and no smarthost (OutboxRegistration.Problems), so this
// transport never stands in for real delivery.
using System.Text;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;

namespace Veil.Server.Platform.Outbox;

internal sealed class DevelopmentOutboxTransport(string directory, TimeProvider time) : IDeliveryTransport
{
    public string Directory { get; } = directory;

    public async Task<SmtpDeliveryResult> DeliverAsync(SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(content);
        var trace = new StringBuilder();
        trace.Append("Return-Path: <").Append(envelope.ReversePath).Append(">\r\n");
        foreach (var recipient in envelope.Recipients)
        {
            trace.Append("Delivered-To: ").Append(recipient).Append("\r\n");
        }

        await OutboxFiles.WriteAsync(Directory, time.GetUtcNow(), OutboxFiles.NewId(), async (file, token) =>
        {
            await file.WriteAsync(Encoding.UTF8.GetBytes(trace.ToString()), token);
            await content.CopyToAsync(file, token);
        }, cancellationToken);

        return new SmtpDeliveryResult(true, false, "250 2.0.0 written to the development outbox", []) { DataAccepted = true };
    }
}
