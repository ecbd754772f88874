using Microsoft.Extensions.DependencyInjection;
using Veil.Server.Identity.Data;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Tests.Kit;

/// <summary>
/// Many accounts at once, written through the server's own DbContext (field encryption and blind indexes as at
/// registration) instead of a thousand Argon2 sign-ups; their credentials are placeholders nobody signs in with.
/// Every third account has a verified recovery address, every fifth an unverified one, and every tenth a recovery
/// address shared with the account before it (a household's common inbox): the notice mails each distinct address once.
/// </summary>
public static class NoticeAccounts
{
    /// <summary>Creates <paramref name="count"/> accounts and returns the distinct addresses a notice must reach (lower-case).</summary>
    public static async Task<IReadOnlySet<string>> CreateAsync(VeilTestServer server, int count, string tag)
    {
        ArgumentNullException.ThrowIfNull(server);
        var expected = new HashSet<string>(StringComparer.Ordinal);
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        for (var i = 0; i < count; i++)
        {
            var email = $"{tag}-{i}@Example.org";
            string? recovery = null;
            var verified = false;
            if (i % 10 == 9)
            {
                recovery = $"{tag}-shared-{i - 1}@example.net";
                verified = true;
            }
            else if (i % 3 == 0)
            {
                recovery = $"{tag}-recovery-{i}@example.net";
                verified = true;
            }
            else if (i % 5 == 0)
            {
                recovery = $"{tag}-unverified-{i}@example.net";
            }

            if (i % 10 == 8)
            {
                // The previous account of a pair: its verified recovery address is the one the next account shares.
                recovery = $"{tag}-shared-{i}@example.net";
                verified = true;
            }

            db.Add(new Account
            {
                Id = Guid.NewGuid(),
                Email = email,
                RecoveryEmail = recovery,
                RecoveryEmailVerified = verified,
                KdfMemoryKiB = 65536,
                KdfIterations = 3,
                KdfParallelism = 1,
                KdfSalt = new byte[16],
                AuthHash = "$argon2id$placeholder",
                ProtectedUserKey = "v1.placeholder",
                CreatedAt = server.Time.GetUtcNow(),
            });
            expected.Add(email.ToLowerInvariant());
            if (verified)
            {
                expected.Add(recovery!.ToLowerInvariant());
            }

            if (i % 250 == 249)
            {
                await db.SaveChangesAsync();
                db.ChangeTracker.Clear();
            }
        }

        await db.SaveChangesAsync();
        return expected;
    }
}
