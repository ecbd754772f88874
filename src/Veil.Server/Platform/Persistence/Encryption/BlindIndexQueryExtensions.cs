using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Veil.Crypto.Keys;

namespace Veil.Server.Platform.Persistence.Encryption;

/// <summary>Equality lookups through blind indexes: no row is decrypted to find a match.</summary>
public static class BlindIndexQueryExtensions
{
    /// <summary>
    /// Rows whose <paramref name="index"/> equals the blind index of <paramref name="value"/> under any
    /// index key version the keyring holds (so rows indexed before a rotation are still found). The
    /// purpose and normalisation are those declared with <c>HasBlindIndex</c>.
    /// </summary>
    public static IQueryable<TEntity> WhereBlindIndexMatches<TEntity>(
        this DbSet<TEntity> set, Expression<Func<TEntity, byte[]?>> index, string value)
        where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(value);
        var context = set.GetService<ICurrentDbContext>().Context as VeilDbContext
            ?? throw new InvalidOperationException("Blind-index lookups need a VeilDbContext.");
        var member = index.Body as MemberExpression
            ?? throw new ArgumentException($"'{index}' must select the index property, like x => x.EmailIndex.", nameof(index));
        var property = context.Model.FindEntityType(typeof(TEntity))?.FindProperty(member.Member.Name);
        if (property?.FindAnnotation(EncryptedColumnBuilderExtensions.BlindIndexPurposeAnnotation)?.Value is not string purpose)
        {
            throw new ArgumentException($"{typeof(TEntity).Name}.{member.Member.Name} is not declared with HasBlindIndex.", nameof(index));
        }

        var normalization = Enum.Parse<BlindIndexNormalization>((string)property.FindAnnotation(EncryptedColumnBuilderExtensions.BlindIndexNormalizationAnnotation)!.Value!);
        var candidates = BlindIndex.ComputeAll(context.Keyring, purpose, BlindIndexField.Normalize(value, normalization));
        if (candidates.Count == 0)
        {
            throw new InvalidOperationException("The keyring has no index key.");
        }

        // index == c0 || index == c1 ...: one equality per key version (usually one or two), each a
        // SQL parameter, so both providers use the column's index.
        Expression? predicate = null;
        foreach (var candidate in candidates)
        {
            var holder = new Candidate(candidate);
            var equal = Expression.Equal(index.Body, Expression.Property(Expression.Constant(holder), nameof(Candidate.Value)));
            predicate = predicate is null ? equal : Expression.OrElse(predicate, equal);
        }

        return set.Where(Expression.Lambda<Func<TEntity, bool>>(predicate!, index.Parameters));
    }

    private sealed class Candidate(byte[] value)
    {
        public byte[] Value { get; } = value;
    }
}
