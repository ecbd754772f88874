using Veil.Crypto.Client;
using Veil.Crypto.Primitives;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Results;

namespace Veil.Server.Identity.Services;

/// <summary>The client's KDF choice (spec/identity-api.md, Kdf).</summary>
internal sealed record KdfDto(string? Kdf, int MemoryKiB, int Iterations, int Parallelism, string? Salt)
{
    public static KdfDto From(Account account) => new(
        "argon2id", account.KdfMemoryKiB, account.KdfIterations, account.KdfParallelism, CryptoRandom.ToBase64Url(account.KdfSalt));
}

/// <summary>Input rules shared by the Identity endpoints. Failures name the member, never echo the value.</summary>
internal static class IdentityValidation
{
    public const int MinMemoryKiB = 64 * 1024;
    public const int MaxMemoryKiB = 1024 * 1024;
    public const int MinIterations = 3;
    public const int MaxIterations = 10;
    public const int MinParallelism = 1;
    public const int MaxParallelism = 16;
    public const int MaxProtectedUserKeyLength = 4096;
    public const int MaxLabelLength = 100;

    /// <summary>The normalised address (spec/keys.md), or an error.</summary>
    public static Result<string> Email(string? input, string member)
    {
        if (string.IsNullOrWhiteSpace(input) || input.Length > 300)
        {
            return IdentityErrors.InvalidRequest($"{member} must be an email address.");
        }

        var normalized = ClientKeyDerivation.NormalizeEmail(input);
        var at = normalized.IndexOf('@', StringComparison.Ordinal);
        var valid = normalized.Length is >= 3 and <= 254
            && at > 0 && at == normalized.LastIndexOf('@') && at < normalized.Length - 1
            && !normalized.Any(c => char.IsControl(c) || char.IsWhiteSpace(c) || c is '<' or '>' or ',' or ';' or ':' or '"');
        return valid ? normalized : IdentityErrors.InvalidRequest($"{member} must be an email address.");
    }

    public static Result<byte[]> AuthToken(string? input, string member) =>
        AuthTokens.Decode(input) is { } bytes ? bytes : IdentityErrors.InvalidRequest($"{member} must be 32 bytes, base64url.");

    public static Result<(int MemoryKiB, int Iterations, int Parallelism, byte[] Salt)> Kdf(KdfDto? kdf, string member)
    {
        if (kdf is null || kdf.Kdf != "argon2id")
        {
            return IdentityErrors.InvalidRequest($"{member}.kdf must be \"argon2id\".");
        }

        if (kdf.MemoryKiB is < MinMemoryKiB or > MaxMemoryKiB || kdf.Iterations is < MinIterations or > MaxIterations
            || kdf.Parallelism is < MinParallelism or > MaxParallelism)
        {
            return IdentityErrors.InvalidRequest(
                $"{member}: memoryKiB must be {MinMemoryKiB}..{MaxMemoryKiB}, iterations {MinIterations}..{MaxIterations}, parallelism {MinParallelism}..{MaxParallelism}.");
        }

        var salt = kdf.Salt is { Length: 22 } s ? CryptoRandom.FromBase64Url(s) : null;
        return salt is { Length: ClientKeyDerivation.SaltLength }
            ? (kdf.MemoryKiB, kdf.Iterations, kdf.Parallelism, salt)
            : IdentityErrors.InvalidRequest($"{member}.salt must be 16 bytes, base64url.");
    }

    public static Result<string> ProtectedUserKey(string? input, string member) =>
        input is { Length: > 0 and <= MaxProtectedUserKeyLength } && input.All(c => c is >= '!' and <= '~')
            ? input
            : IdentityErrors.InvalidRequest($"{member} must be 1..{MaxProtectedUserKeyLength} printable ASCII characters.");

    /// <summary>An optional label or name: trimmed, at most 100 characters, no control characters.</summary>
    public static Result<string?> Label(string? input, string member, bool required = false)
    {
        var trimmed = input?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            return required ? IdentityErrors.InvalidRequest($"{member} is required.") : Result<string?>.Success(null);
        }

        return trimmed.Length <= MaxLabelLength && !trimmed.Any(char.IsControl)
            ? trimmed
            : IdentityErrors.InvalidRequest($"{member} must be at most {MaxLabelLength} characters without control characters.");
    }
}
