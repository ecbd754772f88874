using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata;
using Veil.Crypto.Keys;

namespace Veil.Server.Platform.Persistence.Encryption;

/// <summary>What one entity type encrypts and indexes, read once from the model's annotations.</summary>
internal sealed class EncryptionPlan
{
    private static readonly ConcurrentDictionary<IEntityType, EncryptionPlan?> Plans = new();

    private EncryptionPlan(string table, IProperty? key, EncryptedField[] fields, BlindIndexField[] indexes)
    {
        Table = table;
        Key = key;
        Fields = fields;
        Indexes = indexes;
    }

    public string Table { get; }

    public IProperty? Key { get; }

    public EncryptedField[] Fields { get; }

    public BlindIndexField[] Indexes { get; }

    /// <summary>The plan of an entity type, or null when it has neither encrypted columns nor blind indexes.</summary>
    public static EncryptionPlan? For(IEntityType entityType) => Plans.GetOrAdd(entityType, Build);

    public string RowIdOf(object? keyValue) => keyValue switch
    {
        Guid guid => guid.ToString("D"),
        string text => text,
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException($"An encrypted row of {Table} has no key value."),
    };

    public FieldContext ContextOf(EncryptedField field, object? keyValue) => new(Table, field.Column, RowIdOf(keyValue));

    private static EncryptionPlan? Build(IEntityType entityType)
    {
        var fields = new List<EncryptedField>();
        var indexes = new List<BlindIndexField>();
        var table = entityType.GetTableName() ?? entityType.ShortName();
        var storeObject = StoreObjectIdentifier.Table(table, entityType.GetSchema());
        foreach (var property in entityType.GetProperties())
        {
            if (property.FindAnnotation(EncryptedColumnBuilderExtensions.EncryptedFromAnnotation)?.Value is string plaintextName)
            {
                fields.Add(new EncryptedField(property, ClrProperty(entityType, plaintextName), property.GetColumnName(storeObject) ?? property.Name));
            }

            if (property.FindAnnotation(EncryptedColumnBuilderExtensions.BlindIndexSourceAnnotation)?.Value is string sourceName)
            {
                var purpose = (string)property.FindAnnotation(EncryptedColumnBuilderExtensions.BlindIndexPurposeAnnotation)!.Value!;
                var normalization = Enum.Parse<BlindIndexNormalization>((string)property.FindAnnotation(EncryptedColumnBuilderExtensions.BlindIndexNormalizationAnnotation)!.Value!);
                indexes.Add(new BlindIndexField(property, ClrProperty(entityType, sourceName), purpose, normalization));
            }
        }

        if (fields.Count == 0 && indexes.Count == 0)
        {
            return null;
        }

        var key = entityType.FindPrimaryKey();
        if (fields.Count > 0 && (key is null || key.Properties.Count != 1))
        {
            throw new InvalidOperationException($"{entityType.DisplayName()} has encrypted columns, so it needs a single-column primary key (the envelope binds the row id).");
        }

        return new EncryptionPlan(table, key?.Properties[0], [.. fields], [.. indexes]);
    }

    private static PropertyInfo ClrProperty(IEntityType entityType, string name) =>
        entityType.ClrType.GetProperty(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException($"{entityType.DisplayName()} has no CLR property {name}.");
}

/// <param name="Envelope">The mapped shadow property that holds the envelope.</param>
/// <param name="Plaintext">The unmapped CLR property code reads and writes.</param>
/// <param name="Column">The column name bound into the envelope.</param>
internal sealed record EncryptedField(IProperty Envelope, PropertyInfo Plaintext, string Column)
{
    public bool IsText => Plaintext.PropertyType == typeof(string);

    public static byte[]? ToBytes(object? plaintext) => plaintext switch
    {
        null => null,
        string text => Encoding.UTF8.GetBytes(text),
        byte[] bytes => bytes,
        _ => throw new InvalidOperationException($"Unsupported encrypted type {plaintext.GetType().Name}."),
    };

    public object FromBytes(byte[] bytes) => IsText ? Encoding.UTF8.GetString(bytes) : bytes;
}

internal sealed record BlindIndexField(IProperty Index, PropertyInfo Source, string Purpose, BlindIndexNormalization Normalization)
{
    public static string Normalize(string value, BlindIndexNormalization normalization) => normalization switch
    {
        BlindIndexNormalization.None => value,
        BlindIndexNormalization.TrimLowercase => value.Normalize(NormalizationForm.FormC).Trim().ToLowerInvariant(),
        _ => throw new ArgumentOutOfRangeException(nameof(normalization)),
    };
}

/// <summary>Seals encrypted properties and maintains blind indexes before a save.</summary>
internal static class FieldEncryption
{
    public static void SealPendingChanges(VeilDbContext context)
    {
        foreach (var entry in context.ChangeTracker.Entries())
        {
            if (entry.State is EntityState.Detached or EntityState.Deleted || EncryptionPlan.For(entry.Metadata) is not { } plan)
            {
                continue;
            }

            foreach (var field in plan.Fields)
            {
                SealIfChanged(context.Keyring, plan, field, entry);
            }

            if (entry.State is EntityState.Added or EntityState.Modified)
            {
                foreach (var index in plan.Indexes)
                {
                    Reindex(context.Keyring, index, entry);
                }
            }
        }
    }

    /// <summary>Opens an envelope for its place, or throws <see cref="EncryptedFieldException"/>.</summary>
    public static object? Open(Keyring keyring, EncryptionPlan plan, EncryptedField field, object? keyValue, byte[]? envelope)
    {
        if (envelope is null)
        {
            return null;
        }

        var context = plan.ContextOf(field, keyValue);
        var plaintext = FieldEnvelope.Open(keyring, context, envelope)
            ?? throw new EncryptedFieldException(context.Table, context.Column, context.RowId, FieldEnvelope.KeyVersionOf(envelope));
        return field.FromBytes(plaintext);
    }

    private static void SealIfChanged(Keyring keyring, EncryptionPlan plan, EncryptedField field, EntityEntry entry)
    {
        var plaintext = EncryptedField.ToBytes(field.Plaintext.GetValue(entry.Entity));
        var envelopeProperty = entry.Property(field.Envelope);
        var keyProperty = entry.Property(plan.Key!);
        if (keyProperty.IsTemporary)
        {
            throw new InvalidOperationException($"{plan.Table} has encrypted columns, so its key must be generated by the client before saving, not by the database.");
        }

        var context = plan.ContextOf(field, keyProperty.CurrentValue);
        var current = (byte[]?)envelopeProperty.CurrentValue;
        if (entry.State != EntityState.Added && Unchanged(keyring, context, current, plaintext))
        {
            // Re-sealing an unchanged value would rewrite the row on every save (the nonce is random).
            return;
        }

        envelopeProperty.CurrentValue = plaintext is null ? null : FieldEnvelope.Seal(keyring, context, plaintext);
    }

    private static bool Unchanged(Keyring keyring, FieldContext context, byte[]? envelope, byte[]? plaintext)
    {
        if (envelope is null || plaintext is null)
        {
            return envelope is null && plaintext is null;
        }

        var stored = FieldEnvelope.Open(keyring, context, envelope);
        return stored is not null && stored.AsSpan().SequenceEqual(plaintext);
    }

    private static void Reindex(Keyring keyring, BlindIndexField index, EntityEntry entry)
    {
        var source = (string?)index.Source.GetValue(entry.Entity);
        var computed = source is null ? null : BlindIndex.Compute(keyring, index.Purpose, BlindIndexField.Normalize(source, index.Normalization));
        var property = entry.Property(index.Index);
        var stored = (byte[]?)property.CurrentValue;
        if (stored is null ? computed is not null : computed is null || !stored.AsSpan().SequenceEqual(computed))
        {
            property.CurrentValue = computed;
            if (index.Index.PropertyInfo is { } clr && clr.SetMethod is not null)
            {
                clr.SetValue(entry.Entity, computed);
            }
        }
    }
}
