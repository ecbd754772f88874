// Aliases, contacts, domains and the routing log (spec/alias-api.md). Authorization: every query is
// filtered by the caller's account id, so another user's ids answer exactly like ids that do not exist.
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Veil.Server.Platform.Auth;
using Veil.Server.Platform.Plans;
using Veil.Server.Platform.Problems;
using Veil.Server.Platform.Results;

namespace Veil.Server.Alias;

internal sealed record CreateAliasRequest(string? Prefix, string? Domain, string? Note, string? Label, IReadOnlyList<Guid>? RecipientIds);

internal sealed record AliasCountersDto(long Received, long Forwarded, long Blocked, long Replied, long Bounced, DateTimeOffset? LastEmailAt);

internal sealed record AliasDto(Guid Id, string Address, string Domain, string? Note, string? Label, bool Enabled, string DisabledAction,
    IReadOnlyList<Guid> RecipientIds, AliasCountersDto Counters, DateTimeOffset CreatedAt)
{
    public static AliasDto From(AliasRecord a) => new(a.Id, a.Address, a.Domain, a.Note, a.Label, a.Enabled, a.DisabledAction, a.RecipientIds,
        new AliasCountersDto(a.Received, a.Forwarded, a.Blocked, a.Replied, a.Bounced, a.LastEmailAt), a.CreatedAt);
}

internal sealed record AliasesResponse(IReadOnlyList<AliasDto> Aliases);

internal sealed record ContactDto(Guid Id, Guid AliasId, string Address, string ReverseAddress, bool Blocked, DateTimeOffset CreatedAt,
    long Forwarded, long BlockedCount, long Replied, DateTimeOffset? LastEmailAt)
{
    public static ContactDto From(AliasContact c) => new(c.Id, c.AliasId, c.Address, c.ReverseAddress, c.IsBlocked, c.CreatedAt, c.Forwarded, c.BlockedCount, c.Replied, c.LastEmailAt);
}

internal sealed record ContactsResponse(IReadOnlyList<ContactDto> Contacts);

internal sealed record CreateContactRequest(string? Address);

internal sealed record DomainDto(string Name, bool CatchAll);

internal sealed record DomainsResponse(IReadOnlyList<DomainDto> Domains);

internal sealed record LogEntryDto(DateTimeOffset At, Guid? AliasId, string Event, string? Reason);

internal sealed record LogResponse(IReadOnlyList<LogEntryDto> Entries);

internal sealed record UsageResponse(string Plan, int ForwardsToday, int ForwardsLimit, int CreatedToday, int CreatesLimit, string Day);

internal static class AliasEndpoints
{
    public const int MaxNoteLength = 1000;
    public const int MaxLabelLength = 64;

    public static IResult Domains(ClaimsPrincipal user, AliasDirectory directory)
    {
        var me = user.UserId();
        return TypedResults.Ok(new DomainsResponse([.. directory.Options.NormalizedDomains.Select(d => new DomainDto(d, directory.Options.CatchAllOwner(d) == me))]));
    }

    public static async Task<IResult> CreateAsync(CreateAliasRequest body, ClaimsPrincipal user, AliasCreator creator, CancellationToken ct)
    {
        body ??= new CreateAliasRequest(null, null, null, null, null);
        var result = await creator.CreateAsync(user.UserId(), body.Prefix, body.Domain, body.Note, body.Label, body.RecipientIds, catchAllAddress: null, ct);
        return result.ToHttpResult(a => TypedResults.Created($"/api/v1/alias/aliases/{a.Id}", AliasDto.From(a)));
    }

    public static async Task<IResult> ListAsync(ClaimsPrincipal user, AliasDirectory directory, CancellationToken ct)
    {
        var me = user.UserId();
        var aliases = await directory.Db.Set<AliasRecord>().AsNoTracking().Where(a => a.AccountId == me).ToListAsync(ct);
        return TypedResults.Ok(new AliasesResponse([.. aliases.OrderByDescending(a => a.CreatedAt).ThenBy(a => a.Id).Select(AliasDto.From)]));
    }

    public static async Task<IResult> GetAsync(Guid id, ClaimsPrincipal user, AliasDirectory directory, CancellationToken ct)
    {
        var me = user.UserId();
        var alias = await directory.Db.Set<AliasRecord>().AsNoTracking().FirstOrDefaultAsync(a => a.Id == id && a.AccountId == me, ct);
        return alias is null ? AliasErrors.NotFound.ToProblem() : TypedResults.Ok(AliasDto.From(alias));
    }

    public static async Task<IResult> PatchAsync(Guid id, JsonElement body, ClaimsPrincipal user, AliasDirectory directory, CancellationToken ct)
    {
        var me = user.UserId();
        var db = directory.Db;
        var alias = await db.Set<AliasRecord>().FirstOrDefaultAsync(a => a.Id == id && a.AccountId == me, ct);
        if (alias is null)
        {
            return AliasErrors.NotFound.ToProblem();
        }

        if (body.ValueKind != JsonValueKind.Object)
        {
            return AliasErrors.Invalid("body", "must be a JSON object").ToProblem();
        }

        // Validate everything before changing anything: a bad member changes nothing.
        string? note = alias.Note, label = alias.Label, action = alias.DisabledAction;
        bool enabled = alias.Enabled;
        IReadOnlyList<Guid>? recipients = null;
        foreach (var member in body.EnumerateObject())
        {
            switch (member.Name)
            {
                case "note":
                    if (!TryText(member.Value, MaxNoteLength, out note)) return AliasErrors.Invalid("note", $"must be a string of at most {MaxNoteLength} characters, or null").ToProblem();
                    break;
                case "label":
                    if (!TryText(member.Value, MaxLabelLength, out label)) return AliasErrors.Invalid("label", $"must be a string of at most {MaxLabelLength} characters, or null").ToProblem();
                    break;
                case "enabled":
                    if (member.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) return AliasErrors.Invalid("enabled", "must be true or false").ToProblem();
                    enabled = member.Value.GetBoolean();
                    break;
                case "disabledAction":
                    action = member.Value.ValueKind == JsonValueKind.String ? member.Value.GetString() : null;
                    if (action is not (AliasDisabledActions.Reject or AliasDisabledActions.Discard)) return AliasErrors.Invalid("disabledAction", "must be \"reject\" or \"discard\"").ToProblem();
                    break;
                case "recipientIds":
                    if (member.Value.ValueKind != JsonValueKind.Array) return AliasErrors.Invalid("recipientIds", "must be an array of recipient ids").ToProblem();
                    var ids = new List<Guid>();
                    foreach (var item in member.Value.EnumerateArray())
                    {
                        if (item.ValueKind != JsonValueKind.String || !item.TryGetGuid(out var rid)) return AliasErrors.Invalid("recipientIds", "must be an array of recipient ids").ToProblem();
                        ids.Add(rid);
                    }

                    var checkedIds = await AliasCreator.CheckRecipientsAsync(directory, me, ids, ct);
                    if (!checkedIds.IsSuccess) return checkedIds.Error.ToProblem();
                    recipients = checkedIds.Value;
                    break;
            }
        }

        alias.Note = note;
        alias.Label = label;
        alias.Enabled = enabled;
        alias.DisabledAction = action!;
        if (recipients is not null)
        {
            alias.RecipientIds = recipients;
        }

        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(AliasDto.From(alias));
    }

    public static async Task<IResult> DeleteAsync(Guid id, ClaimsPrincipal user, AliasDirectory directory, CancellationToken ct)
    {
        var me = user.UserId();
        var db = directory.Db;
        var alias = await db.Set<AliasRecord>().FirstOrDefaultAsync(a => a.Id == id && a.AccountId == me, ct);
        if (alias is null)
        {
            return AliasErrors.NotFound.ToProblem();
        }

        await DeleteAliasAsync(directory, alias, ct);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    /// <summary>Tombstones the alias and its reverse addresses, then removes the rows (contacts cascade); the caller saves.</summary>
    public static async Task DeleteAliasAsync(AliasDirectory directory, AliasRecord alias, CancellationToken ct)
    {
        var db = directory.Db;
        directory.Tombstone(alias.Address);
        foreach (var contact in await db.Set<AliasContact>().Where(c => c.AliasId == alias.Id).ToListAsync(ct))
        {
            directory.Tombstone(contact.ReverseAddress);
            db.Remove(contact);
        }

        db.Remove(alias);
    }

    public static async Task<IResult> ContactsAsync(Guid id, ClaimsPrincipal user, AliasDirectory directory, CancellationToken ct)
    {
        var me = user.UserId();
        var db = directory.Db;
        if (!await db.Set<AliasRecord>().AnyAsync(a => a.Id == id && a.AccountId == me, ct))
        {
            return AliasErrors.NotFound.ToProblem();
        }

        var contacts = await db.Set<AliasContact>().AsNoTracking().Where(c => c.AliasId == id && c.AccountId == me).ToListAsync(ct);
        return TypedResults.Ok(new ContactsResponse([.. contacts.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).Select(ContactDto.From)]));
    }

    public static async Task<IResult> CreateContactAsync(Guid id, CreateContactRequest body, ClaimsPrincipal user, AliasDirectory directory, CancellationToken ct)
    {
        var me = user.UserId();
        var db = directory.Db;
        var alias = await db.Set<AliasRecord>().FirstOrDefaultAsync(a => a.Id == id && a.AccountId == me, ct);
        if (alias is null)
        {
            return AliasErrors.NotFound.ToProblem();
        }

        var address = AliasAddresses.NormalizeMailbox(body?.Address);
        if (address is null)
        {
            return AliasErrors.Invalid("address", "must be an email address").ToProblem();
        }

        if (await directory.FindContactAsync(alias.Id, address, ct) is { } existing)
        {
            return TypedResults.Ok(ContactDto.From(existing));
        }

        var contact = await directory.EnsureContactAsync(alias, address, ct);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/alias/contacts/{contact.Id}", ContactDto.From(contact));
    }

    public static async Task<IResult> PatchContactAsync(Guid id, JsonElement body, ClaimsPrincipal user, AliasDirectory directory, CancellationToken ct)
    {
        var me = user.UserId();
        var db = directory.Db;
        var contact = await db.Set<AliasContact>().FirstOrDefaultAsync(c => c.Id == id && c.AccountId == me, ct);
        if (contact is null)
        {
            return AliasErrors.NotFound.ToProblem();
        }

        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("blocked", out var blocked) || blocked.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return AliasErrors.Invalid("blocked", "must be true or false").ToProblem();
        }

        contact.IsBlocked = blocked.GetBoolean();
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ContactDto.From(contact));
    }

    public static async Task<IResult> DeleteContactAsync(Guid id, ClaimsPrincipal user, AliasDirectory directory, CancellationToken ct)
    {
        var me = user.UserId();
        var db = directory.Db;
        var contact = await db.Set<AliasContact>().FirstOrDefaultAsync(c => c.Id == id && c.AccountId == me, ct);
        if (contact is null)
        {
            return AliasErrors.NotFound.ToProblem();
        }

        directory.Tombstone(contact.ReverseAddress);
        db.Remove(contact);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    /// <summary>The caller's plan, its limits and today's (UTC) counts: forwards include replies, as the quota does.</summary>
    public static async Task<IResult> UsageAsync(ClaimsPrincipal user, AliasDirectory directory, AccountPlans plans, CancellationToken ct)
    {
        var me = user.UserId();
        var day = directory.Today;
        var usage = await directory.Db.Set<AliasDailyUsage>().AsNoTracking().FirstOrDefaultAsync(u => u.AccountId == me && u.Day == day, ct);
        var limits = await plans.LimitsAsync(me, ct);
        return TypedResults.Ok(new UsageResponse(limits.Plan, usage?.Forwarded ?? 0, limits.AliasDailyForwards, usage?.Created ?? 0, limits.AliasDailyCreates, day));
    }

    public static async Task<IResult> LogAsync(ClaimsPrincipal user, AliasDirectory directory, int? limit, Guid? aliasId, CancellationToken ct)
    {
        if (limit is < 1 or > 500)
        {
            return AliasErrors.Invalid("limit", "must be 1..500").ToProblem();
        }

        var me = user.UserId();
        var query = directory.Db.Set<AliasLogEntry>().AsNoTracking().Where(e => e.AccountId == me);
        if (aliasId is { } a)
        {
            query = query.Where(e => e.AliasId == a);
        }

        var entries = await query.OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Take(limit ?? 100).ToListAsync(ct);
        return TypedResults.Ok(new LogResponse([.. entries.Select(e => new LogEntryDto(e.At, e.AliasId, e.Event, e.Reason))]));
    }

    internal static bool TryText(JsonElement value, int max, out string? text)
    {
        text = null;
        if (value.ValueKind == JsonValueKind.Null) return true;
        if (value.ValueKind != JsonValueKind.String) return false;
        var s = value.GetString()!;
        if (s.Length > max || s.Any(char.IsControl)) return false;
        text = s.Length == 0 ? null : s;
        return true;
    }
}
