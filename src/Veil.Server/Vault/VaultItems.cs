using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Results;

namespace Veil.Server.Vault;

internal sealed record FieldInput(string? Label, string? Value);

internal sealed record PutItemRequest(string? Title, string? Notes, List<string?>? Tags, List<FieldInput?>? Fields, int? Revision);

/// <summary>The outcome of a PUT: the item and whether it was created.</summary>
internal sealed record PutItemResult(ItemDto Item, bool Created);

/// <summary>Creates or replaces an item. Only the form of each CT is checked; the server cannot read them.</summary>
internal sealed class PutItemCommand(VeilDbContext db, IOptionsSnapshot<VaultOptions> options, TimeProvider time, ILogger<PutItemCommand> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<Result<PutItemResult>> ExecuteAsync(string vaultId, string itemId, HttpRequest http, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        if (!VaultFormat.IsId(itemId))
        {
            return VaultErrors.InvalidId;
        }

        // The server-wide body limit is sized for small JSON; an item may carry up to MaxItemBytes.
        var maxBytes = options.Value.MaxItemBytes;
        if (http.ContentLength > maxBytes)
        {
            return VaultErrors.BodyTooLarge;
        }

        if (http.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        if (!http.HasJsonContentType())
        {
            return PlatformErrors.UnsupportedMediaType;
        }

        PutItemRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync<PutItemRequest>(http.Body, Json, cancellationToken);
        }
        catch (JsonException)
        {
            return PlatformErrors.MalformedJson;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return VaultErrors.BodyTooLarge;
        }

        if (request is null)
        {
            return PlatformErrors.MalformedJson;
        }

        var validated = Validate(request);
        if (!validated.IsSuccess)
        {
            return validated.Error;
        }

        var (tags, fields, size) = validated.Value;
        var item = await db.Set<VaultItem>().FirstOrDefaultAsync(i => i.Id == itemId, cancellationToken);
        if (item is not null && item.VaultId != vault.Id)
        {
            return VaultErrors.AlreadyExists; // the id belongs to an item elsewhere (another vault, maybe another user's)
        }

        var used = await VaultQueries.UsedBytesAsync(db, ownerId, cancellationToken);
        if (used - (item?.Size ?? 0) + size > options.Value.QuotaBytes)
        {
            return VaultErrors.QuotaExceeded;
        }

        var now = time.GetUtcNow();
        var created = item is null;
        if (item is null)
        {
            item = new VaultItem
            {
                Id = itemId, VaultId = vault.Id, Title = request.Title!, Notes = request.Notes, Tags = ItemDto.SerializeTags(tags),
                Fields = ItemDto.SerializeFields(fields), Revision = 1, Size = size, CreatedAt = now, UpdatedAt = now,
            };
            db.Add(item);
        }
        else
        {
            if (request.Revision is { } expected && expected != item.Revision)
            {
                return new RevisionConflictError(item.Revision);
            }

            item.Title = request.Title!;
            item.Notes = request.Notes;
            item.Tags = ItemDto.SerializeTags(tags);
            item.Fields = ItemDto.SerializeFields(fields);
            item.Size = size;
            item.Revision++;
            item.UpdatedAt = now;
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            return created ? VaultErrors.AlreadyExists : VaultErrors.Busy;
        }

        VaultLog.ItemSaved(logger, vault.Id, item.Revision);
        var files = await db.Set<VaultFile>().AsNoTracking().Where(f => f.ItemId == item.Id).ToListAsync(cancellationToken);
        return new PutItemResult(ItemDto.From(item, files), created);
    }

    private static Result<(List<string> Tags, List<FieldDto> Fields, long Size)> Validate(PutItemRequest request)
    {
        if (request.Tags?.Count > VaultFormat.MaxTags || request.Fields?.Count > VaultFormat.MaxFields)
        {
            return VaultErrors.TooManyFields;
        }

        if (!VaultFormat.IsCt(request.Title))
        {
            return new InvalidCiphertextError("title");
        }

        if (request.Notes is not null && !VaultFormat.IsCt(request.Notes))
        {
            return new InvalidCiphertextError("notes");
        }

        long size = request.Title!.Length + (request.Notes?.Length ?? 0);
        var tags = new List<string>();
        for (var i = 0; i < (request.Tags?.Count ?? 0); i++)
        {
            var tag = request.Tags![i];
            if (!VaultFormat.IsCt(tag))
            {
                return new InvalidCiphertextError($"tags/{i}");
            }

            tags.Add(tag!);
            size += tag!.Length;
        }

        var fields = new List<FieldDto>();
        for (var i = 0; i < (request.Fields?.Count ?? 0); i++)
        {
            var field = request.Fields![i];
            if (!VaultFormat.IsCt(field?.Label))
            {
                return new InvalidCiphertextError($"fields/{i}/label");
            }

            if (!VaultFormat.IsCt(field!.Value))
            {
                return new InvalidCiphertextError($"fields/{i}/value");
            }

            fields.Add(new FieldDto(field.Label!, field.Value!));
            size += field.Label!.Length + field.Value!.Length;
        }

        return (tags, fields, size);
    }
}

internal sealed class ReadItemsCommand(VeilDbContext db)
{
    public async Task<Result<ItemListDto>> ListAsync(string vaultId, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        return vault is null ? VaultErrors.VaultNotFound : new ItemListDto(await ItemsOfAsync(db, vault.Id, cancellationToken));
    }

    public async Task<Result<ItemDto>> GetAsync(string vaultId, string itemId, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        var item = await db.Set<VaultItem>().AsNoTracking().FirstOrDefaultAsync(i => i.Id == itemId && i.VaultId == vault.Id, cancellationToken);
        if (item is null)
        {
            return VaultErrors.ItemNotFound;
        }

        var files = await db.Set<VaultFile>().AsNoTracking().Where(f => f.ItemId == item.Id).ToListAsync(cancellationToken);
        return ItemDto.From(item, files);
    }

    /// <summary>Every item of a vault with its files, in creation order (the owner's list and a claim's answer).</summary>
    public static async Task<IReadOnlyList<ItemDto>> ItemsOfAsync(VeilDbContext db, string vaultId, CancellationToken cancellationToken)
    {
        var items = await db.Set<VaultItem>().AsNoTracking().Where(i => i.VaultId == vaultId).ToListAsync(cancellationToken);
        var files = await db.Set<VaultFile>().AsNoTracking().Where(f => f.VaultId == vaultId).ToListAsync(cancellationToken);
        return [.. items.OrderBy(i => i.CreatedAt).ThenBy(i => i.Id, StringComparer.Ordinal).Select(i => ItemDto.From(i, files))];
    }
}

internal sealed class DeleteItemCommand(VeilDbContext db, IBlobStore blobs)
{
    public async Task<Result<bool>> ExecuteAsync(string vaultId, string itemId, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        if (!await db.Set<VaultItem>().AnyAsync(i => i.Id == itemId && i.VaultId == vault.Id, cancellationToken))
        {
            return VaultErrors.ItemNotFound;
        }

        var fileIds = await db.Set<VaultFile>().Where(f => f.ItemId == itemId && f.VaultId == vault.Id).Select(f => f.Id).ToListAsync(cancellationToken);
        await db.Set<VaultFile>().Where(f => f.ItemId == itemId && f.VaultId == vault.Id).ExecuteDeleteAsync(cancellationToken);
        await db.Set<VaultItem>().Where(i => i.Id == itemId && i.VaultId == vault.Id).ExecuteDeleteAsync(cancellationToken);
        foreach (var fileId in fileIds)
        {
            await VaultFiles.DeleteBlobAsync(blobs, vault.Id, fileId, cancellationToken);
        }

        return true;
    }
}

/// <summary>File ciphertexts: one blob each under <c>vault/&lt;vaultId&gt;/&lt;fileId&gt;</c>.</summary>
internal sealed class VaultFiles(VeilDbContext db, IBlobStore blobs, IOptionsSnapshot<VaultOptions> options, TimeProvider time, ILogger<VaultFiles> logger)
{
    public const string NameHeader = "Veil-File-Name";
    public const string KeyHeader = "Veil-File-Key";

    public static readonly Error LengthRequired = new("content-length-required", ErrorKind.BadRequest, "Content-Length required", "Send the file's ciphertext length in Content-Length.");

    public async Task<Result<FileDto>> UploadAsync(string vaultId, string itemId, string fileId, HttpRequest request, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        if (!await db.Set<VaultItem>().AnyAsync(i => i.Id == itemId && i.VaultId == vault.Id, cancellationToken))
        {
            return VaultErrors.ItemNotFound;
        }

        if (!VaultFormat.IsId(fileId))
        {
            return VaultErrors.InvalidId;
        }

        string? name = request.Headers[NameHeader];
        string? key = request.Headers[KeyHeader];
        if (!VaultFormat.IsCt(name))
        {
            return new InvalidCiphertextError(NameHeader);
        }

        if (!VaultFormat.IsCt(key))
        {
            return new InvalidCiphertextError(KeyHeader);
        }

        if (request.ContentLength is not { } length || length < 1)
        {
            return LengthRequired;
        }

        if (length > options.Value.MaxFileBytes)
        {
            return VaultErrors.BodyTooLarge;
        }

        if (await db.Set<VaultFile>().AnyAsync(f => f.Id == fileId, cancellationToken))
        {
            return VaultErrors.AlreadyExists;
        }

        if (await VaultQueries.UsedBytesAsync(db, ownerId, cancellationToken) + length + name!.Length + key!.Length > options.Value.QuotaBytes)
        {
            return VaultErrors.QuotaExceeded;
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = length + 1;
        }

        var blobKey = VaultRecord.FileBlobKey(vault.Id, fileId);
        BlobWriteResult written;
        try
        {
            // Atomic: the store writes a temporary file and renames it only when exactly `length` bytes arrived.
            written = await blobs.WriteAsync(blobKey, request.Body, length, cancellationToken);
        }
        catch (Exception e) when (e is IOException or BadHttpRequestException or OperationCanceledException)
        {
            return PlatformErrors.BadRequest with { Detail = "The file body did not arrive completely." };
        }

        if (written.Status != BlobWriteStatus.Stored)
        {
            return PlatformErrors.BadRequest with { Detail = "The body length does not match Content-Length." };
        }

        var file = new VaultFile { Id = fileId, VaultId = vault.Id, ItemId = itemId, Name = name, Key = key, Size = length, CreatedAt = time.GetUtcNow() };
        db.Add(file);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // A concurrent upload took the id, or the item went away; the blob of the loser is removed.
            await DeleteBlobAsync(blobs, vault.Id, fileId, cancellationToken);
            return VaultErrors.AlreadyExists;
        }

        VaultLog.FileStored(logger, vault.Id, length);
        return FileDto.From(file);
    }

    public async Task<Result<Stream>> OpenAsync(string vaultId, string itemId, string fileId, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        return await OpenFileAsync(db, blobs, vault.Id, f => f.Id == fileId && f.ItemId == itemId, cancellationToken);
    }

    public static async Task<Result<Stream>> OpenFileAsync(
        VeilDbContext db, IBlobStore blobs, string vaultId, System.Linq.Expressions.Expression<Func<VaultFile, bool>> match, CancellationToken cancellationToken)
    {
        var file = await db.Set<VaultFile>().AsNoTracking().Where(f => f.VaultId == vaultId).FirstOrDefaultAsync(match, cancellationToken);
        if (file is null)
        {
            return VaultErrors.FileNotFound;
        }

        var stream = await blobs.OpenReadAsync(VaultRecord.FileBlobKey(vaultId, file.Id), cancellationToken);
        return stream is null ? VaultErrors.FileNotFound : stream;
    }

    public async Task<Result<bool>> DeleteAsync(string vaultId, string itemId, string fileId, Guid ownerId, CancellationToken cancellationToken)
    {
        var vault = await VaultQueries.FindOwnedAsync(db, vaultId, ownerId, cancellationToken);
        if (vault is null)
        {
            return VaultErrors.VaultNotFound;
        }

        var deleted = await db.Set<VaultFile>().Where(f => f.Id == fileId && f.ItemId == itemId && f.VaultId == vault.Id).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return VaultErrors.FileNotFound;
        }

        await DeleteBlobAsync(blobs, vault.Id, fileId, cancellationToken);
        return true;
    }

    /// <summary>Each file has its own blob folder (<c>vault/&lt;vault&gt;/&lt;file&gt;/content</c>), so one file is deleted as a folder.</summary>
    public static Task DeleteBlobAsync(IBlobStore blobs, string vaultId, string fileId, CancellationToken cancellationToken) =>
        blobs.DeletePrefixAsync(VaultRecord.FileBlobFolder(vaultId, fileId), cancellationToken);
}
