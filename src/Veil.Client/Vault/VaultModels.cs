// The decrypted shapes a VaultClient returns, the wire shapes of spec/vault-api.md (ciphertext only), and the
// client-side failure type. Wire records are internal: callers of the SDK only ever see plaintext they may read.
namespace Veil.Client.Vault;

/// <summary>A client-side vault failure. <see cref="Code"/> is <c>tampered</c> when a ciphertext did not authenticate.</summary>
public sealed class VaultException(string code, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>A ciphertext (field, key, escrow or file) did not authenticate: the server or the network changed it.</summary>
    public const string TamperedCode = "tampered";

    /// <summary>A claim link that is not <c>{origin}/vault/claim/{token}</c>.</summary>
    public const string InvalidLinkCode = "invalid-link";

    /// <summary>The claim answered as a rehearsal: nothing was released.</summary>
    public const string RehearsalCode = "rehearsal";

    /// <summary>The stable code of this failure.</summary>
    public string Code { get; } = code;

    internal static VaultException Tampered(string what) => new(TamperedCode, "tampered: " + what);
}

/// <summary>A vault with its name decrypted.</summary>
public sealed record VaultInfo(string Id, string Name, DateTimeOffset CreatedAt, long UsedBytes, int ItemCount, int RecipientCount, VaultSwitch? Switch);

/// <summary>One label/value pair of an item.</summary>
public sealed record VaultField(string Label, string Value);

/// <summary>A file of an item: its name decrypted; <see cref="Size"/> is the ciphertext size, <see cref="PlaintextSize"/> the file's.</summary>
public sealed record VaultFile(string Id, string Name, long Size, long PlaintextSize, DateTimeOffset CreatedAt)
{
    /// <summary>The wrapped file key as stored (needed to decrypt the content).</summary>
    internal string WrappedKey { get; init; } = string.Empty;
}

/// <summary>An item, decrypted.</summary>
public sealed record VaultItem(
    string Id, string Title, string? Notes, IReadOnlyList<string> Tags, IReadOnlyList<VaultField> Fields,
    IReadOnlyList<VaultFile> Files, long Revision, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>What an item says, before encryption (add and edit).</summary>
public sealed record VaultItemDraft(string Title, string? Notes, IReadOnlyList<string> Tags, IReadOnlyList<VaultField> Fields);

/// <summary>The switch of a vault (spec/vault-api.md, "Switch"): no secret in it.</summary>
public sealed record VaultSwitch(
    string State, long IntervalSeconds, long GraceSeconds, DateTimeOffset? LastCheckInAt, DateTimeOffset? Deadline,
    DateTimeOffset? ReleaseAt, DateTimeOffset? NextReminderAt, string Stage, DateTimeOffset? ReleasedAt);

/// <summary>A recipient of a vault.</summary>
public sealed record VaultRecipient(string Id, string Email, DateTimeOffset CreatedAt, string State, DateTimeOffset? NotifiedAt, DateTimeOffset? ClaimedAt);

/// <summary>Progress of a file transfer in ciphertext bytes.</summary>
public readonly record struct VaultTransferProgress(long Done, long Total);

/// <summary>A released vault, decrypted by a recipient: everything but the file contents, which <see cref="VaultClaim"/> downloads.</summary>
public sealed record ClaimedVault(string VaultId, string RecipientId, string Name, IReadOnlyList<VaultItem> Items);

// ---------------------------------------------------------------- wire (ciphertext)

internal sealed record CreateVaultRequest(string Id, string Name, string WrappedKey);

internal sealed record VaultDto(string Id, string Name, string WrappedKey, DateTimeOffset CreatedAt, long UsedBytes, int ItemCount, int RecipientCount, VaultSwitch? Switch);

internal sealed record VaultListDto(List<VaultDto> Vaults);

internal sealed record FieldDto(string Label, string Value);

internal sealed record PutItemRequest(string Title, string? Notes, List<string> Tags, List<FieldDto> Fields, long? Revision);

internal sealed record FileDto(string Id, string Name, string Key, long Size, DateTimeOffset CreatedAt);

internal sealed record ItemDto(string Id, string Title, string? Notes, List<string>? Tags, List<FieldDto>? Fields, List<FileDto>? Files, long Revision, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

internal sealed record ItemListDto(List<ItemDto> Items);

internal sealed record SetSwitchRequest(long IntervalSeconds, long GraceSeconds);

internal sealed record AddRecipientRequest(string Id, string Email, string Escrow, string DeliveryKey, bool? Notify = null);

internal sealed record RecipientListDto(List<VaultRecipient> Recipients);

internal sealed record ExpiresDto(DateTimeOffset ExpiresAt);

internal sealed record ClaimCodeRequest(string Token);

internal sealed record ClaimRequest(string Token, string Code);

internal sealed record ClaimedVaultDto(string Name, List<ItemDto> Items);

internal sealed record ClaimDto(
    bool Rehearsal, int? Recipients, string? VaultId, string? RecipientId, string? Escrow, string? DeliveryKey,
    ClaimedVaultDto? Vault, string? DownloadToken, DateTimeOffset? DownloadTokenExpiresAt);
