// Declaring encrypted and blind-indexed columns (docs/adr/0001-persistence.md).
//
// An encrypted property is a plaintext CLR property (string or byte[]) that EF does not map; beside
// it EF maps a shadow byte[] property, named "<Property>Envelope", to a column named like the
// property. That column holds a field envelope (spec/field-envelope.md) whose associated data is
// table / column / row id. A plain ValueConverter cannot do this: it sees one value, never the row,
// so it cannot bind the row id. Instead VeilDbContext.SaveChanges seals (FieldEncryption) and a
// materialization interceptor opens (FieldDecryptionInterceptor), both knowing the entity's key.
//
// Only strings and booleans go into annotations, so migrations snapshots can record them.
using System.Linq.Expressions;
using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Veil.Crypto.Keys;

namespace Veil.Server.Platform.Persistence.Encryption;

/// <summary>How a value is normalised before its blind index is computed. Part of the stored index: never change one in place.</summary>
public enum BlindIndexNormalization
{
    /// <summary>The value as written.</summary>
    None = 0,

    /// <summary>Unicode NFC, trimmed, lowercased (invariant): for addresses and user names.</summary>
    TrimLowercase = 1,
}

/// <summary>Declares encrypted columns and blind indexes in a module's entity configuration.</summary>
public static class EncryptedColumnBuilderExtensions
{
    internal const string EncryptedFromAnnotation = "Veil:EncryptedFrom";
    internal const string BlindIndexSourceAnnotation = "Veil:BlindIndexSource";
    internal const string BlindIndexPurposeAnnotation = "Veil:BlindIndexPurpose";
    internal const string BlindIndexNormalizationAnnotation = "Veil:BlindIndexNormalization";
    internal const string EnvelopeSuffix = "Envelope";

    /// <summary>
    /// Stores <paramref name="property"/> (a <see cref="string"/> or <see cref="byte"/>[] property) as a
    /// field envelope bound to this table, this column and the row's key. The entity's key must be a
    /// single client-generated value (a <see cref="Guid"/> or a string), known before the row is saved.
    /// The property cannot be used in queries: look rows up by a blind index instead.
    /// </summary>
    /// <returns>The builder of the envelope column, to rename it or add constraints.</returns>
    public static PropertyBuilder<byte[]> HasEncryptedColumn<TEntity, TProperty>(
        this EntityTypeBuilder<TEntity> builder, Expression<Func<TEntity, TProperty>> property)
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        var member = MemberOf(property);
        if (member.PropertyType != typeof(string) && member.PropertyType != typeof(byte[]))
        {
            throw new ArgumentException($"Only string and byte[] properties can be encrypted; {typeof(TEntity).Name}.{member.Name} is {member.PropertyType.Name}.", nameof(property));
        }

        if (member.GetMethod is null || member.SetMethod is null)
        {
            throw new ArgumentException($"{typeof(TEntity).Name}.{member.Name} needs a getter and a setter (private is fine).", nameof(property));
        }

        builder.Ignore(member.Name);
        var required = new NullabilityInfoContext().Create(member).ReadState == NullabilityState.NotNull;
        return builder.Property<byte[]>(member.Name + EnvelopeSuffix)
            .HasColumnName(member.Name)
            .IsRequired(required)
            .HasAnnotation(EncryptedFromAnnotation, member.Name);
    }

    /// <summary>
    /// Maintains <paramref name="index"/> as the blind index (<see cref="BlindIndex"/>) of
    /// <paramref name="source"/>'s normalised value under <paramref name="purpose"/>, recomputed on
    /// every save that adds or modifies the row, with a database index for equality lookups
    /// (<see cref="BlindIndexQueryExtensions.WhereBlindIndexMatches"/>).
    /// </summary>
    /// <remarks>
    /// A unique index only catches duplicates under the same index key version: after a rotation,
    /// until the re-index job has run, an old row and a new one can hold the same value.
    /// </remarks>
    public static IndexBuilder<TEntity> HasBlindIndex<TEntity>(
        this EntityTypeBuilder<TEntity> builder,
        Expression<Func<TEntity, string?>> source,
        Expression<Func<TEntity, byte[]?>> index,
        string purpose,
        BlindIndexNormalization normalize = BlindIndexNormalization.None)
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        if (purpose.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A blind-index purpose must not contain NUL.", nameof(purpose));
        }

        var sourceMember = MemberOf(source);
        var indexMember = MemberOf(index);
        builder.Property(indexMember.Name)
            .HasAnnotation(BlindIndexSourceAnnotation, sourceMember.Name)
            .HasAnnotation(BlindIndexPurposeAnnotation, purpose)
            .HasAnnotation(BlindIndexNormalizationAnnotation, normalize.ToString());
        return builder.HasIndex(indexMember.Name);
    }

    private static PropertyInfo MemberOf<TEntity, TProperty>(Expression<Func<TEntity, TProperty>> expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var body = expression.Body is UnaryExpression { NodeType: ExpressionType.Convert } convert ? convert.Operand : expression.Body;
        return body is MemberExpression { Member: PropertyInfo property } member && member.Expression == expression.Parameters[0]
            ? property
            : throw new ArgumentException($"'{expression}' must select a property of the entity, like x => x.Email.", nameof(expression));
    }
}
