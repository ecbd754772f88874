// The embedded default's next hop, in development only: with no smarthost (Veil:Mail:Smarthost), the outbound queue
// "delivers" each message by writing it to <data>/outbox as an .eml file, beside the notification mail
// FileMailOutbox writes there. So a newcomer who sends mail to an alias sees the forwarded copy (rewritten, tracker-
// free, DKIM-signed exactly as it would leave) instead of mail waiting in the spool with no sign of it.
// A Return-Path and one Delivered-To per recipient are prepended, as a final delivery agent does (RFC 5321
// §4.4); neither is among the signed fields, so the DKIM signature still verifies over the file.
// Written to a temporary name, then renamed, so a reader never sees half a message; mode 0600 (mail in clear).
// In production Veil refuses to start with alias domains and no smarthost (OutboxRegistration.Problems), so this
// transport never stands in for real delivery.
using System.Globalization;
using System.Security.Cryptography;
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
        var now = time.GetUtcNow();
        var fileName = string.Create(CultureInfo.InvariantCulture, $"{now:yyyyMMdd'T'HHmmss'.'fff'Z'}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.eml");
        var trace = new StringBuilder();
        trace.Append("Return-Path: <").Append(envelope.ReversePath).Append(">\r\n");
        foreach (var recipient in envelope.Recipients)
        {
            trace.Append("Delivered-To: ").Append(recipient).Append("\r\n");
        }

        System.IO.Directory.CreateDirectory(Directory);
        var temporary = Path.Combine(Directory, "." + fileName + ".tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            await using (var file = new FileStream(temporary, options))
            {
                await file.WriteAsync(Encoding.UTF8.GetBytes(trace.ToString()), cancellationToken);
                await content.CopyToAsync(file, cancellationToken);
                await file.FlushAsync(cancellationToken);
            }

            File.Move(temporary, Path.Combine(Directory, fileName));
        }
        finally
        {
            File.Delete(temporary);
        }

        return new SmtpDeliveryResult(true, false, "250 2.0.0 written to the development outbox", []) { DataAccepted = true };
    }
}
