// What happens to a forward or reply the next hop did not take at once. The sink logs it "deferred" and the outbound
// queue keeps it with a tag (AliasDeliveryTag); when the queue is finished with it, this observer records the
// outcome where the owner looks: "forwarded"/"replied" and the counter once the next hop accepted it, "failed" and
// the bounced counter when it refused it or the queue gave up, and then a DSN to the original sender (who heard
// 250 from Veil, RFC 5321 §6.1). The queue calls it at least once per message (again after a crash before the
// removal); a deferral marker written with the "deferred" entry makes it count each outcome once.
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Veil.Mail.Queue;

namespace Veil.Server.Alias;

internal sealed class AliasDeliveryObserver(IServiceScopeFactory scopes, IServiceProvider services) : IQueuedDeliveryObserver
{
    public async Task CompletedAsync(QueuedDeliveryOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (AliasDeliveryTag.Parse(outcome.Tag) is not { } tag)
        {
            throw new FormatException("Not an Alias delivery tag."); // the queue then bounces as it always did
        }

        var delivered = outcome.Recipients.Count(r => r.State == QueuedRecipientState.Delivered);
        var failed = outcome.Recipients.Where(r => r.State == QueuedRecipientState.Failed).ToList();
        await using (var scope = scopes.CreateAsyncScope())
        {
            var directory = scope.ServiceProvider.GetRequiredService<AliasDirectory>();
            // The sink's deferral marker says it recorded "deferred" for this send. Without it the sink crashed
            // before that save: the spool offers the message again and that send records (and tells) its own
            // outcome. Consumed here, so a second call after a crash before the queue's removal does nothing.
            var marker = await directory.Db.Set<AliasHandledMessage>().FirstOrDefaultAsync(m => m.Key == tag.Marker, cancellationToken);
            if (marker is null)
            {
                return;
            }

            directory.Db.Remove(marker);
            // Deleted since: nothing left to count, but the sender is still told below.
            if (await directory.Db.Set<AliasRecord>().FirstOrDefaultAsync(a => a.Id == tag.AliasId, cancellationToken) is { } alias)
            {
                if (delivered > 0)
                {
                    if (tag.Event == AliasEvents.Replied)
                    {
                        alias.Replied++;
                    }
                    else
                    {
                        alias.Forwarded++;
                    }

                    directory.Log(alias.AccountId, alias.Id, tag.Event, null);
                }

                if (failed.Count > 0)
                {
                    alias.Bounced++;
                    directory.Log(alias.AccountId, alias.Id, AliasEvents.Failed, NextHopReplies.Of(failed[0].LastReply).Reason);
                }
            }

            await directory.Db.SaveChangesAsync(cancellationToken);
        }

        if (failed.Count > 0)
        {
            // Named as the sender addressed it, with the reply codes only and a few of its own headers: nothing that
            // would tell the sender where the alias leads.
            await services.GetRequiredService<OutboundQueue>().EnqueueDeliveryReportAsync(
                tag.Sender, tag.ArrivedAt,
                [new QueuedRecipient(tag.Recipient, QueuedRecipientState.Failed, NextHopReplies.Of(failed[0].LastReply).Text)],
                QuotableHeaders(outcome.Headers), cancellationToken);
        }
    }

    /// <summary>Subject, Date and Message-ID of the forwarded copy's header block: the lines the sender wrote and can match.</summary>
    private static byte[] QuotableHeaders(byte[] headers)
    {
        var text = Encoding.Latin1.GetString(headers);
        var kept = new StringBuilder();
        var keep = false;
        foreach (var line in text.Split("\r\n"))
        {
            if (line.Length > 0 && line[0] is ' ' or '\t')
            {
                if (keep)
                {
                    kept.Append(line).Append("\r\n");
                }

                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = colon > 0 ? line[..colon].Trim() : "";
            keep = name.Equals("Subject", StringComparison.OrdinalIgnoreCase) || name.Equals("Date", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Message-ID", StringComparison.OrdinalIgnoreCase);
            if (keep)
            {
                kept.Append(line).Append("\r\n");
            }
        }

        return Encoding.Latin1.GetBytes(kept.ToString() + "\r\n");
    }
}

/// <summary>
/// The reference the sink gives a queued forward or reply: the event it becomes once accepted, the alias, the
/// address the original sender used, the original sender and when Veil accepted it. Lines, because no address
/// holds a line break. It lies in the queue's state file next to the message, which holds the same addresses.
/// </summary>
internal sealed record AliasDeliveryTag(string Event, Guid AliasId, string Recipient, string Sender, DateTimeOffset ArrivedAt, string Marker)
{
    private const string Kind = "veil-alias-1";

    public static string Format(string @event, Guid aliasId, string recipient, string sender, DateTimeOffset arrivedAt, string marker) =>
        string.Join('\n', Kind, @event, aliasId.ToString("N"), recipient, sender, arrivedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), marker);

    public static AliasDeliveryTag? Parse(string tag)
    {
        var parts = tag.Split('\n');
        return parts.Length == 7 && parts[0] == Kind && parts[1] is AliasEvents.Forwarded or AliasEvents.Replied
            && Guid.TryParseExact(parts[2], "N", out var aliasId)
            && long.TryParse(parts[5], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            && parts[6].Length == 64
            ? new AliasDeliveryTag(parts[1], aliasId, parts[3], parts[4], DateTimeOffset.FromUnixTimeMilliseconds(ms), parts[6])
            : null;
    }

    /// <summary>The key of the marker that says the sink recorded a unit's deferral (a hash, like every handled key).</summary>
    public static string DeferralMarker(string handledKey) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(handledKey + ":deferred")));
}

/// <summary>
/// The next hop's reply reduced to its codes ("550 5.6.0"), for DSNs and log reasons: its text may name the real
/// mailbox, which neither the original sender nor the log may learn.
/// </summary>
internal static class NextHopReplies
{
    public static (string Text, string Reason) Of(string? reply)
    {
        if (reply is null || reply.Length < 3 || !reply.Take(3).All(char.IsAsciiDigit) || reply[0] is not ('4' or '5'))
        {
            // No reply at all (unreachable, a local error) until the queue gave up.
            return ("450 4.4.1 (the next hop could not be reached)", "next-hop-unreachable");
        }

        var codes = EnhancedCode(reply[3..]) is { } enhanced ? reply[..3] + " " + enhanced : reply[..3];
        return (codes + " (refused by the next hop)", "next-hop-" + codes.Replace(' ', '-'));
    }

    private static string? EnhancedCode(string rest)
    {
        var text = rest.TrimStart(' ', '-');
        var end = 0;
        while (end < text.Length && end < 11 && (char.IsAsciiDigit(text[end]) || text[end] == '.'))
        {
            end++;
        }

        var parts = text[..end].Split('.');
        return parts.Length == 3 && parts[0] is "4" or "5" && parts[1].Length is > 0 and <= 3 && parts[2].Length is > 0 and <= 3 ? text[..end] : null;
    }
}
