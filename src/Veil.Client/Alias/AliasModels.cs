// Request and response shapes of spec/alias-api.md (JSON camelCase on the wire).
using System.Text.Json.Serialization;

namespace Veil.Client.Alias;

/// <summary>An alias domain the server offers.</summary>
/// <param name="Name">The domain, e.g. <c>alias.example</c>.</param>
/// <param name="CatchAll">True when the caller owns this domain's catch-all.</param>
public sealed record AliasDomain(string Name, bool CatchAll);

/// <summary>A real mailbox aliases forward to.</summary>
/// <param name="Id">The recipient id.</param>
/// <param name="Email">The mailbox address.</param>
/// <param name="Verified">True once the mailed link was opened.</param>
/// <param name="Paused">True when forwarding stopped after hard bounces.</param>
/// <param name="PausedReason">Why it was paused, or null.</param>
/// <param name="CreatedAt">When it was added.</param>
/// <param name="VerifiedAt">When it was verified, or null.</param>
/// <param name="PgpFingerprint">SHA-256 fingerprint of the mailbox's OpenPGP key when forwarded copies are encrypted to it, else null.</param>
public sealed record AliasRecipient(
    Guid Id,
    string Email,
    bool Verified,
    bool Paused,
    string? PausedReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset? VerifiedAt,
    string? PgpFingerprint = null);

/// <summary>Per-alias counters.</summary>
public sealed record AliasCounters(long Received, long Forwarded, long Blocked, long Replied, long Bounced, DateTimeOffset? LastEmailAt);

/// <summary>An alias address and its settings.</summary>
public sealed record AliasInfo(
    Guid Id,
    string Address,
    string Domain,
    string? Note,
    string? Label,
    bool Enabled,
    string DisabledAction,
    IReadOnlyList<Guid> RecipientIds,
    AliasCounters Counters,
    DateTimeOffset CreatedAt);

/// <summary>A sender of an alias, with the reverse address that reaches it through the alias.</summary>
public sealed record AliasContact(
    Guid Id,
    Guid AliasId,
    string Address,
    string ReverseAddress,
    bool Blocked,
    DateTimeOffset CreatedAt,
    long Forwarded,
    long BlockedCount,
    long Replied,
    DateTimeOffset? LastEmailAt);

/// <summary>One routing-log entry (no content, no address).</summary>
public sealed record AliasLogEntry(DateTimeOffset At, Guid? AliasId, string Event, string? Reason);

/// <summary>The account's plan, its daily limits and today's counts (UTC day).</summary>
/// <param name="Plan">The plan in force (<c>default</c> when the operator assigned none).</param>
/// <param name="ForwardsToday">Messages forwarded (and replies sent) today.</param>
/// <param name="ForwardsLimit">The plan's daily forward limit; beyond it mail is deferred (<c>451</c>).</param>
/// <param name="CreatedToday">Aliases created today.</param>
/// <param name="CreatesLimit">The plan's daily creation limit.</param>
/// <param name="Day">The UTC day counted, <c>yyyy-MM-dd</c>.</param>
public sealed record AliasUsage(string Plan, int ForwardsToday, int ForwardsLimit, int CreatedToday, int CreatesLimit, string Day);

/// <summary>What a new alias looks like; every member optional.</summary>
/// <param name="Prefix">A readable prefix (<c>shop</c> → <c>shop.x7k2q@…</c>); random words when null.</param>
/// <param name="Domain">One of the server's alias domains; its first when null.</param>
/// <param name="Note">A private note (≤ 1000 characters).</param>
/// <param name="Label">A short label (≤ 64 characters).</param>
/// <param name="RecipientIds">Verified recipients to forward to; all of them when null.</param>
public sealed record NewAlias(string? Prefix = null, string? Domain = null, string? Note = null, string? Label = null, IReadOnlyList<Guid>? RecipientIds = null);

/// <summary>Changes to an alias: null members stay unchanged; an empty note or label clears it.</summary>
public sealed record AliasChanges
{
    /// <summary>The new note ("" clears).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Note { get; init; }

    /// <summary>The new label ("" clears).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Label { get; init; }

    /// <summary>Enable or disable the alias.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Enabled { get; init; }

    /// <summary>For a disabled alias: <see cref="AliasDisabledAction.Reject"/> or <see cref="AliasDisabledAction.Discard"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DisabledAction { get; init; }

    /// <summary>The verified recipients to forward to (non-empty).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Guid>? RecipientIds { get; init; }
}

/// <summary>What happens to mail for a disabled alias.</summary>
public static class AliasDisabledAction
{
    /// <summary>Refused at RCPT with 550 (the sender learns it failed).</summary>
    public const string Reject = "reject";

    /// <summary>Accepted, counted and dropped (the sender learns nothing).</summary>
    public const string Discard = "discard";
}

internal sealed record DomainsResponse(IReadOnlyList<AliasDomain> Domains);

internal sealed record RecipientsResponse(IReadOnlyList<AliasRecipient> Recipients);

internal sealed record AliasesResponse(IReadOnlyList<AliasInfo> Aliases);

internal sealed record ContactsResponse(IReadOnlyList<AliasContact> Contacts);

internal sealed record LogResponse(IReadOnlyList<AliasLogEntry> Entries);

internal sealed record RecipientRequest(string Email);

internal sealed record RecipientPgpRequest(string PublicKey);

internal sealed record VerifyRecipientRequest(string Token);

internal sealed record VerifiedResponse(bool Verified);

internal sealed record ContactRequest(string Address);

internal sealed record ContactBlockRequest(bool Blocked);
