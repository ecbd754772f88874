// Zero-access inbound (issue 17, point 3). After the spool made a message durable and SMTP said 250, this sink
// takes the recipients that are mailbox addresses and, for each:
//   1. derives the row id from (spool id, recipient position), so a redelivery after a crash finds what it did;
//   2. seals the whole raw message (headers, subject, attachments) to the address's OpenPGP public key (into memory
//      up to 256 KiB, else into a temporary file holding ciphertext only) and moves it into the blob store under
//      that id (atomic replace, fsynced);
//   3. seals a small summary (sender, subject, snippet, attachment names, and the SPF/DKIM/DMARC verdicts, evaluated
//      once per message here, before sealing, and only for messages that reach a mailbox) to the same key;
//   4. inserts the row (metadata: envelope sender field-encrypted, size, arrival, keyed Message-ID hash), in one
//      transaction with the rows of the messages sealed at the same time (MailboxRowCommitter, group commit).
// Only when every mailbox recipient is done does it answer Done, and only then does the spool delete the
// plaintext. A crash anywhere before the row commits repeats steps 2–4 (the blob is replaced, not doubled); a crash
// after it finds the row and skips: each message is stored exactly once per address.
// Other recipients of the same message (alias addresses) go on to the sink registered before this one, with an
// envelope that names only them (their positions are stable, so that sink's own "handled" markers still hold).
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Mail.Authentication;
using Veil.Mail.Spool;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Persistence.Encryption;

namespace Veil.Server.Mailbox;

internal sealed class MailboxMessageSink(
    IServiceScopeFactory scopes,
    IBlobStore blobs,
    VeilPaths paths,
    IOptions<MailboxOptions> options,
    TimeProvider time,
    ILogger<MailboxMessageSink> logger,
    IMessageSink? inner,
    InboundAuthenticator? authenticator = null,
    Domains.VerifiedDomains? customDomains = null) : IMessageSink, IDisposable
{
    /// <summary>
    /// Messages up to this size are sealed into memory; larger ones go through a temporary file (ciphertext only), so
    /// memory stays flat for any size. At the spool's 64 concurrent calls this holds at most ~16 MiB.
    /// </summary>
    public const int SealInMemoryUpTo = 256 * 1024;

    /// <summary>How long a parsed address key is reused before it is parsed (and its expiry checked) again.</summary>
    public static readonly TimeSpan KeyRecheckInterval = TimeSpan.FromMinutes(1);

    private const int MaxCachedKeys = 4096;

    private readonly MailboxRowCommitter _rows = new(scopes);

    // Parsing an armoured key verifies its self-signatures (Ed25519 in managed code): done once per address a minute,
    // not once per message. Public keys only; an address whose key changed has a new armoured text, so a new entry.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (Veil.Crypto.OpenPgp.OpenPgpPublicKey Key, DateTimeOffset Parsed)> _keys = new(StringComparer.Ordinal);

    /// <summary>
    /// How long the SPF/DKIM/DMARC lookups of one message may take in all. Beyond it the verdicts are recorded as
    /// temperror and the message is stored anyway: a slow or dead resolver must neither lose mail nor hold the spool.
    /// </summary>
    public static readonly TimeSpan AuthenticationBudget = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest message checked: DKIM needs the whole message in memory, and Veil:Mail:MaxMessageSize may allow up to
    /// 2 GiB. A larger message is stored with a version 1 summary ("not recorded"), never held back.
    /// </summary>
    public const long MaxAuthenticatedSize = 64L * 1024 * 1024;

    public async ValueTask<SinkResult> ProcessAsync(SpooledMessage message, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(content);
        var recipients = message.Envelope.Recipients;
        var others = new List<string>(recipients.Count);
        var result = SinkResult.Done;

        // The spool may hand a stream over a whole segment file, positioned where this message's content starts: every
        // re-read goes back to that position, never to 0.
        var start = content.Position;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
            MailSummary? summary = null;
            string? messageId = null;
            try
            {
                for (var index = 0; index < recipients.Count; index++)
                {
                    var address = await FindAddressAsync(db, recipients[index], cancellationToken);
                    if (address is null)
                    {
                        if (IsMailDomain(recipients[index]))
                        {
                            MailboxLog.AddressGone(logger, message.Id.Value, index);
                        }
                        else
                        {
                            others.Add(recipients[index]);
                        }

                        continue;
                    }

                    var id = RowId(message.Id, index);
                    if (await db.Set<MailMessage>().AnyAsync(m => m.Id == id, cancellationToken))
                    {
                        MailboxLog.AlreadySealed(logger, message.Id.Value, index);
                        continue;
                    }

                    if (message.Size > options.Value.MaxMessageSize)
                    {
                        MailboxLog.TooLarge(logger, message.Id.Value, index);
                        continue;
                    }

                    if (summary is null)
                    {
                        content.Position = start;
                        (summary, messageId) = MailSummary.Read(content);
                        summary = await AuthenticateAsync(message, content, start, summary, cancellationToken);
                    }

                    await StoreAsync(message, content, start, index, id, address, summary, messageId, cancellationToken);
                }
            }
            catch (Exception e) when (e is DbException or DbUpdateException or IOException)
            {
                // Of the moment (database, disk): the message stays spooled and comes back; what was stored is kept.
                MailboxLog.RetryLater(logger, message.Id.Value, e.GetType().Name);
                result = SinkResult.RetryLater;
            }
        }

        if (others.Count > 0 && inner is not null)
        {
            content.Position = start;
            var rest = message with { Envelope = message.Envelope with { Recipients = others } };
            if (await inner.ProcessAsync(rest, content, cancellationToken) == SinkResult.RetryLater)
            {
                result = SinkResult.RetryLater;
            }
        }

        return result;
    }

    public void Dispose() => _rows.Dispose();

    /// <summary>
    /// Records the message's SPF, DKIM and DMARC verdicts in <paramref name="summary"/> (which is sealed, so no verdict
    /// is kept in clear). DNS failures are verdicts (temperror), never a reason to hold or lose the message.
    /// </summary>
    private async Task<MailSummary> AuthenticateAsync(SpooledMessage message, Stream content, long start, MailSummary summary, CancellationToken ct)
    {
        // A message spooled before the client address was recorded keeps a version 1 summary (nothing to check SPF with),
        // as does one too large to hold in memory.
        if (authenticator is null || message.Size > MaxAuthenticatedSize || !System.Net.IPAddress.TryParse(message.Envelope.ClientAddress, out var client))
        {
            return summary;
        }

        // DKIM hashes the whole body, so the message is read once into memory (at most Veil:Mail:MaxMessageSize, checked before).
        var raw = new byte[message.Size];
        content.Position = start;
        await content.ReadExactlyAsync(raw, ct);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        budget.CancelAfter(AuthenticationBudget);
        try
        {
            var verdicts = await authenticator.EvaluateAsync(raw, client, message.Envelope.ReversePath, message.Envelope.HeloName ?? "", budget.Token);
            return summary.WithAuthentication(verdicts);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            MailboxLog.AuthenticationUnfinished(logger, message.Id.Value);
            return summary with { V = MailSummary.AuthenticatedVersion, Authentication = MailAuthenticationSummary.Unfinished };
        }
    }

    /// <summary>The stored row's id for the recipient at <paramref name="index"/> of a spooled message.</summary>
    public static Guid RowId(SpoolId spoolId, int index)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.ASCII.GetBytes($"veil/mail/v1/inbound\0{spoolId.Value}\0{index}"), digest);
        return new Guid(digest[..16]);
    }

    private bool IsMailDomain(string recipient)
    {
        var at = recipient.LastIndexOf('@');
        return at > 0 && Mail.DkimKeyAdmin.NormalizeDomain(recipient[(at + 1)..]) is { } domain && options.Value.IsMailDomain(domain);
    }

    /// <summary>
    /// The mailbox address <paramref name="recipient"/> names: at an operator mail domain, or at a verified custom
    /// domain when the address belongs to the domain's holder. Other recipients (aliases, other domains) cost no query.
    /// </summary>
    private async Task<MailAddress?> FindAddressAsync(VeilDbContext db, string recipient, CancellationToken ct)
    {
        Guid? holder = null;
        if (!IsMailDomain(recipient))
        {
            var at = recipient.LastIndexOf('@');
            if (customDomains is null || at <= 0 || Mail.DkimKeyAdmin.NormalizeDomain(recipient[(at + 1)..]) is not { } domain
                || !customDomains.TryGetHolder(domain, out var held))
            {
                return null;
            }

            holder = held;
        }

        if (MailboxAddresses.Normalize(recipient) is not { } normalized)
        {
            return null;
        }

        var address = await db.Set<MailAddress>().WhereBlindIndexMatches(a => a.AddressIndex, normalized).AsNoTracking().FirstOrDefaultAsync(ct);
        return address is not null && (holder is null || address.AccountId == holder) ? address : null;
    }

    private async Task StoreAsync(
        SpooledMessage message, Stream content, long start, int index, Guid id, MailAddress address, MailSummary summary, string? messageId, CancellationToken ct)
    {
        // Checked when stored; a key that has expired since cannot be sealed to: the message waits (RetryLater) and
        // the operator sees the warning, rather than the mail being stored in clear or dropped.
        var key = ReadKey(address.PublicKey) ?? throw new IOException("The address key is no longer usable (expired?).");

        // The sealed copy's length must be known before the blob store takes it. A small message is sealed into memory;
        // a larger one through a temporary file (ciphertext only), so memory stays flat for any size.
        long sealedSize;
        if (message.Size <= SealInMemoryUpTo)
        {
            using var output = new MemoryStream((int)message.Size + 1024);
            content.Position = start;
            MailSealer.Seal(key, content, output);
            sealedSize = output.Length;
            output.Position = 0;
            await StoreBlobAsync(output, address, id, sealedSize, ct);
        }
        else
        {
            var temporary = Path.Combine(paths.DataDirectory, "mailbox-tmp");
            Platform.Hosting.DataDirectory.CreateOwnerOnly(temporary);
            var file = Path.Combine(temporary, id.ToString("N") + ".pgp");
            try
            {
                await using var output = new FileStream(file, OwnerOnlyFile);
                content.Position = start;
                MailSealer.Seal(key, content, output);
                await output.FlushAsync(ct);
                sealedSize = output.Length;
                output.Position = 0;
                await StoreBlobAsync(output, address, id, sealedSize, ct);
            }
            finally
            {
                File.Delete(file);
            }
        }

        var sealedSummary = MailSealer.SealSmall(key, summary.ToJsonBytes());
        var row = new MailMessage
        {
            Id = id,
            AccountId = address.AccountId,
            AddressId = address.Id,
            EnvelopeFrom = message.Envelope.ReversePath,
            Size = message.Size,
            SealedSize = sealedSize,
            ReceivedAt = message.Envelope.ReceivedAt,
            ThreadKey = messageId is null ? null : address.AccountId.ToString("N") + "\0" + messageId,
            SealedSummary = Convert.ToBase64String(sealedSummary),
        };
        // Committed with the rows of the messages sealed beside it (MailboxRowCommitter: one transaction for many).
        if (!await _rows.CommitAsync(row, ct))
        {
            // Another dispatcher stored the same (message, recipient) a moment ago: that copy counts.
            return;
        }

        MailboxLog.Sealed(logger, message.Id.Value, index, id, sealedSize);
    }

    private Veil.Crypto.OpenPgp.OpenPgpPublicKey? ReadKey(string armored)
    {
        var now = time.GetUtcNow();
        if (_keys.TryGetValue(armored, out var cached) && now - cached.Parsed < KeyRecheckInterval && now >= cached.Parsed)
        {
            return cached.Key;
        }

        var key = MailSealer.Read(armored, now);
        if (key is null)
        {
            _keys.TryRemove(armored, out _);
            return null;
        }

        if (_keys.Count >= MaxCachedKeys)
        {
            _keys.Clear();
        }

        _keys[armored] = (key, now);
        return key;
    }

    /// <summary>The sealed copy's temporary file: created new, 0600 (it holds ciphertext only, yet nobody else has to list it).</summary>
    private static readonly FileStreamOptions OwnerOnlyFile = CreateOwnerOnlyFileOptions();

    private static FileStreamOptions CreateOwnerOnlyFileOptions()
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = 1 << 16, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }

    private async Task StoreBlobAsync(Stream sealedCopy, MailAddress address, Guid id, long sealedSize, CancellationToken ct)
    {
        var written = await blobs.WriteAsync(MailMessage.BlobFolderOf(address.AccountId, id) + "/sealed", sealedCopy, sealedSize, ct);
        if (written.Status != BlobWriteStatus.Stored)
        {
            throw new IOException("The sealed message did not reach the blob store whole.");
        }
    }
}
