using System.Buffers.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

using Veil.Server.Platform.Problems;

namespace Veil.Server.Drop;

internal sealed record PasswordWrapDto(string? Salt, string? WrappedKey);

internal sealed record CreateDropRequest(long ContentSize, long ExpiresInSeconds, long? MaxDownloads, PasswordWrapDto? Password, string? OwnerNameKey = null);

internal sealed record CreateDropResponse(string Id, string OwnerToken, int PartSize, int PartCount, DateTimeOffset UploadExpiresAt);

/// <summary>Creates an empty drop and hands out its owner token (once) and part size.</summary>
internal sealed class CreateDropCommand(VeilDbContext db, DropSecrets secrets, IOptionsSnapshot<DropOptions> options, TimeProvider time, ILogger<CreateDropCommand> logger)
{
    public async Task<Result<CreateDropResponse>> ExecuteAsync(CreateDropRequest request, DropCaller caller, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var anonymous = caller.UserId is null;
        if (anonymous && !settings.Anonymous.Enabled)
        {
            return DropErrors.AnonymousDisabled;
        }

        var maxBytes = anonymous ? settings.Anonymous.MaxDropBytes : settings.MaxDropBytes;
        var maxExpiry = anonymous ? (long)settings.Anonymous.MaxExpiry.TotalSeconds : DropLimits.MaxExpirySeconds;
        if (request.ContentSize < 1)
        {
            return DropErrors.BadPart with { Detail = "contentSize must be at least 1." };
        }

        if (request.ContentSize > maxBytes)
        {
            return DropErrors.TooLarge;
        }

        if (request.ExpiresInSeconds < DropLimits.MinExpirySeconds || request.ExpiresInSeconds > maxExpiry)
        {
            // Said in days and minutes, with the way to a longer one, so a client can show it as is.
            return DropErrors.InvalidExpiry with
            {
                Detail = anonymous
                    ? $"Drops without an account expire after 5 minutes to {HumanUnits.Duration(maxExpiry)} on this server; signed-in drops up to {HumanUnits.Duration(DropLimits.MaxExpirySeconds)}."
                    : $"Drops expire after 5 minutes to {HumanUnits.Duration(maxExpiry)}.",
            };
        }

        if (request.MaxDownloads is < 1 or > DropLimits.MaxDownloadLimit)
        {
            return DropErrors.InvalidDownloadLimit;
        }

        byte[]? salt = null, wrappedKey = null;
        if (request.Password is { } password)
        {
            salt = DecodeBase64Url(password.Salt, DropLimits.PasswordSaltBytes, DropLimits.PasswordSaltBytes);
            wrappedKey = DecodeBase64Url(password.WrappedKey, DropLimits.MinWrappedKeyBytes, DropLimits.MaxWrappedKeyBytes);
            if (salt is null || wrappedKey is null)
            {
                return DropErrors.InvalidPasswordWrap;
            }
        }

        // Only the account can read a name key back (GET /api/v1/drops); from an anonymous sender it is a client bug.
        if (request.OwnerNameKey is { } nameKey && (anonymous || !IsWellFormedNameKey(nameKey)))
        {
            return DropErrors.InvalidNameKey;
        }

        var ownerKey = anonymous ? secrets.AnonymousOwnerKey(caller.Ip) : "u:" + caller.UserId;
        if (await db.Set<DropOwnerStanding>().AnyAsync(s => s.OwnerKey == ownerKey && s.UploadBannedAt != null, cancellationToken))
        {
            return DropErrors.UploadBanned;
        }

        // Quota: ciphertext bytes of this owner's drops whose blobs still exist (declared sizes; parts
        // must match them exactly, so nobody stores more than declared). Two creates racing can both pass
        // the check; the overshoot is bounded by one drop each.
        var quota = anonymous ? settings.Anonymous.IpQuotaBytes : settings.UserQuotaBytes;
        var used = await db.Set<DropRecord>().Where(d => d.OwnerKey == ownerKey && d.PurgedAt == null).SumAsync(d => d.ContentSize, cancellationToken);
        if (used + request.ContentSize > quota)
        {
            return DropErrors.QuotaExceeded;
        }

        var now = time.GetUtcNow();
        var ownerToken = DropSecrets.NewToken();
        var partSize = settings.PartSizeBytes;
        var drop = new DropRecord
        {
            Id = DropSecrets.NewDropId(),
            OwnerTokenHash = DropSecrets.HashToken(ownerToken),
            OwnerUserId = caller.UserId,
            OwnerKey = ownerKey,
            ContentSize = request.ContentSize,
            PartSize = partSize,
            PartCount = (int)((request.ContentSize + partSize - 1) / partSize),
            PasswordSalt = salt,
            WrappedKey = wrappedKey,
            OwnerNameKey = request.OwnerNameKey,
            ExpiresInSeconds = (int)request.ExpiresInSeconds,
            MaxDownloads = (int?)request.MaxDownloads,
            CreatedAt = now,
            LastActivityAt = now,
        };
        db.Add(drop);
        await db.SaveChangesAsync(cancellationToken);
        DropLog.Created(logger, drop.Id, drop.ContentSize, drop.PartCount, anonymous);
        return new CreateDropResponse(drop.Id, ownerToken, drop.PartSize, drop.PartCount, now + DropLimits.AbandonedAfter);
    }

    /// <summary>"v&lt;digits&gt;." and base64url: the shape of every version of the wrap; the server cannot check more.</summary>
    private static bool IsWellFormedNameKey(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        return text.Length <= DropLimits.MaxOwnerNameKeyChars && dot >= 2 && text[0] == 'v'
            && text.AsSpan(1, dot - 1).IndexOfAnyExceptInRange('0', '9') < 0
            && dot + 1 < text.Length && Base64Url.IsValid(text.AsSpan(dot + 1));
    }

    private static byte[]? DecodeBase64Url(string? text, int minBytes, int maxBytes)
    {
        if (text is null || text.Length > Base64Url.GetEncodedLength(maxBytes) || !Base64Url.IsValid(text, out var length) || length < minBytes || length > maxBytes)
        {
            return null;
        }

        return Base64Url.DecodeFromChars(text);
    }

    internal static byte[]? DecodeKey(string? text, int bytes) => DecodeBase64Url(text, bytes, bytes);
}
