using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Veil.Mail.Dkim;
using Veil.Server.Platform.Persistence;

namespace Veil.Server.Mail;

/// <summary>A DKIM key as the operator sees it: never the private key, always the DNS record to publish.</summary>
/// <param name="Domain">The signing domain (d=).</param>
/// <param name="Selector">The selector (s=).</param>
/// <param name="Algorithm"><c>rsa-sha256</c> or <c>ed25519-sha256</c>.</param>
/// <param name="RecordName">The TXT record's owner name, <c>selector._domainkey.domain</c>.</param>
/// <param name="RecordValue">The TXT record's text, <c>v=DKIM1; k=…; p=…</c>.</param>
/// <param name="CreatedAt">When Veil generated the key.</param>
public sealed record DkimKeyView(string Domain, string Selector, string Algorithm, string RecordName, string RecordValue, DateTimeOffset CreatedAt);

/// <summary>The outcome of <see cref="DkimKeyAdmin.CreateAsync"/>.</summary>
public enum DkimCreateStatus
{
    Created,
    AlreadyExists,
    InvalidDomain,
    InvalidSelector,
}

/// <summary>What <see cref="DkimKeyAdmin.CreateAsync"/> did; <see cref="Key"/> is set when created.</summary>
public sealed record DkimCreateResult(DkimCreateStatus Status, DkimKeyView? Key);

/// <summary>
/// Operator actions on DKIM keys (<c>veil admin dkim create|show</c>), called in process by the CLI
/// over the server's own database and keyring, like <see cref="Drop.DropReportAdmin"/>.
/// </summary>
public sealed class DkimKeyAdmin
{
    private readonly VeilDbContext _db;
    private readonly TimeProvider _time;
    private readonly Platform.Audit.AdminAudit _audit;

    internal DkimKeyAdmin(VeilDbContext db, TimeProvider time, Platform.Audit.AdminAudit audit)
    {
        _db = db;
        _time = time;
        _audit = audit;
    }

    /// <summary>Generates and stores a key; <paramref name="selector"/> defaults to <c>veilYYYYMM</c>.</summary>
    public async Task<DkimCreateResult> CreateAsync(string domain, string? selector, DkimAlgorithm algorithm, CancellationToken cancellationToken)
    {
        if (NormalizeDomain(domain) is not { } d)
        {
            return new DkimCreateResult(DkimCreateStatus.InvalidDomain, null);
        }

        var now = _time.GetUtcNow();
        var s = selector is null ? "veil" + now.ToString("yyyyMM", CultureInfo.InvariantCulture) : NormalizeSelector(selector);
        if (s is null)
        {
            return new DkimCreateResult(DkimCreateStatus.InvalidSelector, null);
        }

        if (await _db.Set<DkimKey>().AnyAsync(k => k.Domain == d && k.Selector == s, cancellationToken))
        {
            return new DkimCreateResult(DkimCreateStatus.AlreadyExists, null);
        }

        using var key = algorithm == DkimAlgorithm.Ed25519Sha256 ? DkimSigningKey.GenerateEd25519() : DkimSigningKey.GenerateRsa2048();
        var entity = DkimKey.Create(d, s, key, now);
        _db.Add(entity);
        _audit.Add("dkim-create", d);
        try
        {
            await _db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Two operators racing on the same selector: the unique index decided.
            return new DkimCreateResult(DkimCreateStatus.AlreadyExists, null);
        }

        return new DkimCreateResult(DkimCreateStatus.Created, View(entity, key));
    }

    /// <summary>Every key of <paramref name="domain"/>, newest first; empty if none (or the domain is invalid).</summary>
    public async Task<IReadOnlyList<DkimKeyView>> ShowAsync(string domain, CancellationToken cancellationToken)
    {
        if (NormalizeDomain(domain) is not { } d)
        {
            return [];
        }

        var keys = await _db.Set<DkimKey>().AsNoTracking().Where(k => k.Domain == d).ToListAsync(cancellationToken);
        return [.. keys.OrderByDescending(k => k.CreatedAt).ThenBy(k => k.Selector, StringComparer.Ordinal).Select(k =>
        {
            using var key = k.OpenSigningKey();
            return View(k, key);
        })];
    }

    private static DkimKeyView View(DkimKey entity, DkimSigningKey key) =>
        new(entity.Domain, entity.Selector, entity.Algorithm, DkimDnsRecord.Name(entity.Selector, entity.Domain), DkimDnsRecord.For(key), entity.CreatedAt);

    /// <summary>Lowercase A-label form with at least two labels, or null.</summary>
    internal static string? NormalizeDomain(string? domain)
    {
        if (string.IsNullOrWhiteSpace(domain))
        {
            return null;
        }

        string ascii;
        try
        {
            ascii = new IdnMapping().GetAscii(domain.Trim().TrimEnd('.')).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }

        return ascii.Length <= 253 && ascii.Contains('.', StringComparison.Ordinal) && ascii.Split('.').All(IsLabel) ? ascii : null;
    }

    /// <summary>A selector is one or more DNS labels (RFC 6376 §3.1), lowercased; or null.</summary>
    internal static string? NormalizeSelector(string selector)
    {
        var s = selector.Trim().ToLowerInvariant();
        return s.Length is > 0 and <= 63 && s.Split('.').All(IsLabel) ? s : null;
    }

    private static bool IsLabel(string label) =>
        label.Length is > 0 and <= 63 && label[0] != '-' && label[^1] != '-' && label.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');
}
