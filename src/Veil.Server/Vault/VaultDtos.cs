using System.Text.Json;

namespace Veil.Server.Vault;

internal sealed record SwitchDto(
    string State, int IntervalSeconds, int GraceSeconds, DateTimeOffset LastCheckInAt, DateTimeOffset? Deadline, DateTimeOffset? ReleaseAt,
    DateTimeOffset? NextReminderAt, string Stage, DateTimeOffset? ReleasedAt)
{
    public static SwitchDto From(VaultSwitch s)
    {
        var paused = s.State == VaultSwitchState.Paused;
        return new SwitchDto(
            s.State.ToString().ToLowerInvariant(), s.IntervalSeconds, s.GraceSeconds, s.LastCheckInAt,
            paused ? null : s.Deadline, paused ? null : s.ReleaseAt, VaultSchedule.NextReminder(s), VaultSchedule.Stage(s), s.ReleasedAt);
    }
}

internal sealed record VaultDto(
    string Id, string Name, string WrappedKey, DateTimeOffset CreatedAt, long UsedBytes, int ItemCount, int RecipientCount, SwitchDto? Switch);

internal sealed record VaultListDto(IReadOnlyList<VaultDto> Vaults);

internal sealed record FieldDto(string Label, string Value);

internal sealed record FileDto(string Id, string Name, string Key, long Size, DateTimeOffset CreatedAt)
{
    public static FileDto From(VaultFile f) => new(f.Id, f.Name, f.Key, f.Size, f.CreatedAt);
}

internal sealed record ItemDto(
    string Id, string Title, string? Notes, IReadOnlyList<string> Tags, IReadOnlyList<FieldDto> Fields, IReadOnlyList<FileDto> Files,
    int Revision, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static ItemDto From(VaultItem item, IEnumerable<VaultFile> files) => new(
        item.Id, item.Title, item.Notes,
        JsonSerializer.Deserialize<List<string>>(item.Tags, Json) ?? [],
        JsonSerializer.Deserialize<List<FieldDto>>(item.Fields, Json) ?? [],
        [.. files.Where(f => f.ItemId == item.Id).OrderBy(f => f.CreatedAt).ThenBy(f => f.Id, StringComparer.Ordinal).Select(FileDto.From)],
        item.Revision, item.CreatedAt, item.UpdatedAt);

    public static string SerializeTags(IReadOnlyList<string> tags) => JsonSerializer.Serialize(tags, Json);

    public static string SerializeFields(IReadOnlyList<FieldDto> fields) => JsonSerializer.Serialize(fields, Json);
}

internal sealed record ItemListDto(IReadOnlyList<ItemDto> Items);

internal sealed record RecipientDto(string Id, string Email, DateTimeOffset CreatedAt, string State, DateTimeOffset? NotifiedAt, DateTimeOffset? ClaimedAt)
{
    public static RecipientDto From(VaultRecipient r) => new(r.Id, r.Email, r.CreatedAt, r.State.ToString().ToLowerInvariant(), r.NotifiedAt, r.ClaimedAt);
}

internal sealed record RecipientListDto(IReadOnlyList<RecipientDto> Recipients);
