// `veil admin doctor` (issue 24 point 6): how safely this installation is configured, one finding per check, each
// ok, warn or unsafe, with the sentence that says what to do. What start refuses outright (a missing key, an http
// PublicOrigin in production, a database reached over the network without verified TLS) never gets this far: the
// CLI prints those refusals instead. The doctor reads; it changes nothing.
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Veil.Server.Alias;
using Veil.Server.Mail;
using Veil.Server.Mailbox;
using Veil.Server.Mailbox.Domains;
using Veil.Server.Platform.Hosting;
using Veil.Server.Platform.Keys;
using Veil.Server.Platform.Outbox;
using Veil.Server.Platform.Persistence;
using Veil.Server.Transparency;

namespace Veil.Server.Platform.Diagnostics;

/// <summary>One check's outcome: <see cref="Status"/> is <c>ok</c>, <c>warn</c> or <c>unsafe</c>.</summary>
public sealed record DoctorFinding(string Check, string Status, string Message);

public sealed class ProductionDoctor
{
    public const string Ok = "ok";
    public const string Warn = "warn";
    public const string Unsafe = "unsafe";

    /// <summary>Below this, the spool may refuse mail (452) and uploads fail: unsafe.</summary>
    public const long MinimumFreeBytes = 1L << 30;

    private static readonly TimeSpan DkimKeyMaximumAge = TimeSpan.FromDays(365);
    private static readonly TimeSpan ClockSkewWarning = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ClockSkewUnsafe = TimeSpan.FromSeconds(30); // TOTP windows and token lifetimes stop holding

    private readonly IServiceProvider _services;
    private readonly IConfiguration _configuration;
    private readonly VeilOptions _veil;
    private readonly TimeProvider _time;

    internal ProductionDoctor(IServiceProvider services, IConfiguration configuration, IOptions<VeilOptions> veil, TimeProvider time)
    {
        _services = services;
        _configuration = configuration;
        _veil = veil.Value;
        _time = time;
    }

    /// <summary>Every check, in a fixed order. DNS answers come from <c>Veil:Dns:Servers</c> (or the system's resolvers).</summary>
    public async Task<IReadOnlyList<DoctorFinding>> RunAsync(CancellationToken cancellationToken)
    {
        var findings = new List<DoctorFinding>();
        var dataDirectory = _services.GetRequiredService<VeilPaths>().DataDirectory;
        findings.Add(DataDirectoryModes(dataDirectory));
        findings.Add(ServerKeysSource());
        findings.Add(PublicOriginSetting());
        findings.Add(DatabaseTransport());
        findings.Add(OutgoingMail());
        findings.Add(KeyTransparencyWitnesses());
        findings.Add(await BlobStoreAsync(cancellationToken));
        var newestKeys = await NewestDkimKeysAsync(cancellationToken);
        findings.AddRange(DkimKeyAges(newestKeys));
        findings.AddRange(await MailDomainsAsync(newestKeys, cancellationToken));
        findings.Add(await BackupAgeAsync(cancellationToken));
        findings.Add(await ClockAsync(cancellationToken));
        findings.Add(FreeDisk(dataDirectory));
        return findings;
    }

    private static DoctorFinding DataDirectoryModes(string dataDirectory)
    {
        if (OperatingSystem.IsWindows())
        {
            return new("data-directory", Warn, "file modes are not checked on Windows");
        }

        const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        var loose = new List<string>();
        var count = 0;
        foreach (var entry in new DirectoryInfo(dataDirectory).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).Prepend(new DirectoryInfo(dataDirectory)))
        {
            count++;
            if ((entry.UnixFileMode & GroupOrOther) != 0 && (entry.Attributes & FileAttributes.ReparsePoint) == 0 && !IsSocket(entry))
            {
                loose.Add($"{Path.GetRelativePath(dataDirectory, entry.FullName)} ({Octal(entry.UnixFileMode)})");
            }
        }

        return loose.Count == 0
            ? new("data-directory", Ok, $"{dataDirectory}: {count} entries, none readable or writable by other users")
            : new("data-directory", Unsafe, $"{dataDirectory}: {loose.Count} entries open to other users: {string.Join(", ", loose.Take(5))}{(loose.Count > 5 ? ", …" : "")}; "
                + $"run: chmod -R go-rwx {dataDirectory}");
    }

    private DoctorFinding ServerKeysSource()
    {
        var fromConfiguration = ServerKeys.Names.Where(n => !string.IsNullOrWhiteSpace(_configuration[ServerKeys.CurrentPath(n)])).ToList();
        var fromDataDirectory = ServerKeys.Names.Except(fromConfiguration).ToList();
        var lengths = fromConfiguration.Select(n => TryLength(_configuration[ServerKeys.CurrentPath(n)]!)).ToList();
        var age = "their age is not recorded: rotate by adding a new version (OPERATIONS \"Server keys\")";
        if (fromDataDirectory.Count > 0)
        {
            return new("server-keys", _veil.Production ? Unsafe : Warn,
                $"{fromDataDirectory.Count} of {ServerKeys.Names.Count} server keys come from the development keyring in the data directory, so a copy of it "
                + "(a backup, a snapshot) holds the keys to its own ciphertext: set every Veil:Keys:* from a secret store and run with --production");
        }

        return new("server-keys", Ok, $"all {ServerKeys.Names.Count} server keys come from configuration, {lengths.Min() * 8}-bit or longer; {age}");
    }

    /// <summary>The age of the last good backup (Platform/Backup), warned past two schedule periods (8 days without a schedule).</summary>
    private async Task<DoctorFinding> BackupAgeAsync(CancellationToken cancellationToken)
    {
        var options = _services.GetRequiredService<Backup.BackupOptions>();
        var last = await _services.GetRequiredService<Backup.BackupAdmin>().LastGoodAsync(cancellationToken);
        var schedule = options.Schedule is { } every ? $"scheduled every {HumanDuration.Format(every)}" : "no scheduled backups (Veil:Backup:Schedule)";
        if (last is null)
        {
            return new("backup", Warn, $"no good backup recorded; {schedule}. Run 'veil admin backup create' (OPERATIONS \"Backups\")");
        }

        var age = _time.GetUtcNow() - last.CompletedAt;
        var text = string.Create(CultureInfo.InvariantCulture, $"last good backup {HumanDuration.Format(age)} ago ({last.CompletedAt:yyyy-MM-dd HH:mm}Z, {Backup.BackupAdmin.Megabytes(last.FileBytes)}); {schedule}");
        return age > options.MaximumAge
            ? new("backup", Warn, $"{text}: older than {HumanDuration.Format(options.MaximumAge)}")
            : new("backup", Ok, text);
    }

    private DoctorFinding PublicOriginSetting() => _veil.PublicOrigin switch
    {
        null or "" => new("public-origin", _veil.Production ? Unsafe : Warn,
            "Veil:PublicOrigin is not set: links in mail are built from the request's Host header; set it to the https origin users reach Veil at"),
        var origin when origin.StartsWith("https://", StringComparison.OrdinalIgnoreCase) => new("public-origin", Ok, origin),
        var origin => new("public-origin", _veil.Production ? Unsafe : Warn, $"{origin} is not https: links in mail would carry tokens in clear"),
    };

    private DoctorFinding DatabaseTransport()
    {
        var provider = _services.GetRequiredService<IDatabaseInfo>().ProviderName;
        if (provider != "postgres")
        {
            return new("database", Ok, "SQLite in the data directory (no network)");
        }

        var problems = DatabaseTls.Problems(_configuration).ToList();
        if (problems.Count > 0)
        {
            return new("database", _veil.Production ? Unsafe : Warn, problems[0]);
        }

        var hosts = new Npgsql.NpgsqlConnectionStringBuilder(_configuration["ConnectionStrings:Postgres"]).Host ?? "";
        return hosts.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).All(DatabaseTls.StaysOnThisMachine)
            ? new("database", Ok, "PostgreSQL on this machine (loopback or a Unix socket)")
            : new("database", Ok, "PostgreSQL over TLS with the certificate and name verified (SSL Mode=VerifyFull)");
    }

    private DoctorFinding KeyTransparencyWitnesses()
    {
        var options = _services.GetRequiredService<IOptions<KtOptions>>().Value;
        return _services.GetRequiredService<KtWitnessPolicy>().HasWitnesses
            ? new("key-transparency", Ok, options.WitnessPolicyFile is { Length: > 0 } file
                ? $"checkpoints are published once the witness policy {file} is satisfied"
                : $"checkpoints are published once {options.WitnessQuorum?.ToString(CultureInfo.InvariantCulture) ?? "a majority"} of {options.Witnesses.Count} witnesses cosigned them")
            : new("key-transparency", Warn, "key transparency has no witnesses: checkpoints carry the log's signature alone, so the server could show "
                + "different key histories to different clients unnoticed; run 'veil witness serve' elsewhere (ideally others run it) and set "
                + "Veil:KeyTransparency:Witnesses (OPERATIONS \"Key transparency\")");
    }

    // The S3 settings were checked at start; here the bucket is asked once (a HEAD of a key that does not exist), so
    // a wrong endpoint, bucket or credential shows before the first upload fails.
    private async Task<DoctorFinding> BlobStoreAsync(CancellationToken cancellationToken)
    {
        if (Platform.Blobs.BlobStoreRegistration.StoreOf(_configuration) != "s3")
        {
            return new("blob-store", Ok, "files under the data directory (one node; several nodes need Veil:Blobs:Store=s3)");
        }

        try
        {
            await _services.GetRequiredService<Platform.Blobs.IBlobStore>().GetLengthAsync("doctor/probe", cancellationToken);
        }
        catch (Exception e) when (e is Amazon.Runtime.AmazonClientException or HttpRequestException)
        {
            var status = e is Amazon.Runtime.AmazonServiceException service ? $"{(int)service.StatusCode} {service.ErrorCode}" : "no answer";
            return new("blob-store", Unsafe, $"the S3 bucket did not answer ({status}): check Veil:Blobs:S3:Endpoint, Bucket, AccessKey and SecretKey");
        }

        return Uri.TryCreate(_configuration["Veil:Blobs:S3:Endpoint"], UriKind.Absolute, out var endpoint) && endpoint.Scheme == "https"
            ? new("blob-store", Ok, "S3 bucket over https, answering with the configured credentials")
            : new("blob-store", Ok, "S3 bucket on loopback over http, answering with the configured credentials");
    }

    private DoctorFinding OutgoingMail() => OutboxRegistration.OutgoingPolicy(_configuration) switch
    {
        null => new("outgoing-mail", Warn, "no smarthost and no direct delivery: mail Veil sends is written as .eml files to the data directory's outbox"),
        { Risk: OutgoingMailRisk.InClear } p => new("outgoing-mail", _veil.Production ? Unsafe : Warn, p.Summary),
        { Risk: OutgoingMailRisk.StartTlsStrippable } p => new("outgoing-mail", Warn, p.Summary),
        var p => new("outgoing-mail", Ok, p.Summary),
    };

    /// <summary>Each operator domain with its newest DKIM key (null when it has none), read once for both checks that need it.</summary>
    private async Task<IReadOnlyList<(string Domain, DkimKeyView? Newest)>> NewestDkimKeysAsync(CancellationToken cancellationToken)
    {
        var admin = _services.GetRequiredService<DkimKeyAdmin>();
        var result = new List<(string, DkimKeyView?)>();
        foreach (var domain in OperatorDomains())
        {
            var keys = await admin.ShowAsync(domain, cancellationToken);
            result.Add((domain, keys.Count == 0 ? null : keys[0]));
        }

        return result;
    }

    private List<DoctorFinding> DkimKeyAges(IReadOnlyList<(string Domain, DkimKeyView? Newest)> newestKeys)
    {
        var now = _time.GetUtcNow();
        var findings = new List<DoctorFinding>();
        foreach (var (domain, key) in newestKeys)
        {
            if (key is not { } newest)
            {
                continue; // the DNS check says so, with the command that creates one
            }

            var days = (int)(now - newest.CreatedAt).TotalDays;
            findings.Add(now - newest.CreatedAt > DkimKeyMaximumAge
                ? new($"dkim-key:{domain}", Warn, $"the newest DKIM key ({newest.Algorithm}, selector {newest.Selector}) is {days} days old: "
                    + $"create a new one with 'veil admin dkim create {domain}', publish it, and retire the old record later")
                : new($"dkim-key:{domain}", Ok, $"{newest.Algorithm}, selector {newest.Selector}, {days} days old"));
        }

        return findings;
    }

    private async Task<IReadOnlyList<DoctorFinding>> MailDomainsAsync(IReadOnlyList<(string Domain, DkimKeyView? Newest)> newestKeys, CancellationToken cancellationToken)
    {
        var findings = new List<DoctorFinding>();
        if (_services.GetService<DomainCheck>() is not { } check)
        {
            return findings;
        }

        foreach (var (domain, newest) in newestKeys)
        {
            var dkim = newest is null ? null : new DnsRecordDto("dkim", "TXT", newest.RecordName, newest.RecordValue);
            foreach (var result in await check.RunOperatorAsync(domain, dkim, cancellationToken))
            {
                // A missing MTA-STS policy or a DNS failure is worth fixing, not a hole; a domain without MX, SPF, DKIM or an
                // enforcing DMARC loses mail or can be forged.
                var status = result.Ok ? Ok : result.Check == "mta-sts" || result.Status == DomainCheck.DnsError ? Warn : Unsafe;
                var found = result.Found.Count == 0 ? "" : $" (found: {string.Join("; ", result.Found)})";
                findings.Add(new($"dns:{domain}:{result.Check}", status, result.Ok ? $"ok{found}" : $"{result.Status}{found}: {result.Fix}"));
            }
        }

        return findings;
    }

    private async Task<DoctorFinding> ClockAsync(CancellationToken cancellationToken)
    {
        if (_services.GetRequiredService<IDatabaseInfo>().ProviderName != "postgres")
        {
            return new("clock", Ok, $"{_time.GetUtcNow():yyyy-MM-dd HH:mm:ss}Z (one machine: no database clock to compare with; keep NTP running)");
        }

        var db = _services.GetRequiredService<VeilDbContext>();
        var before = _time.GetUtcNow();
        var database = await db.Database.SqlQueryRaw<DateTimeOffset>("SELECT now() AS \"Value\"").SingleAsync(cancellationToken);
        var after = _time.GetUtcNow();
        var skew = database - (before + ((after - before) / 2));
        var text = string.Create(CultureInfo.InvariantCulture, $"this machine and PostgreSQL differ by {skew.TotalSeconds:0.0} s");
        return skew.Duration() switch
        {
            var d when d > ClockSkewUnsafe => new("clock", Unsafe, $"{text}: one-time codes, token expiry and dead man's switches depend on time; run NTP on both"),
            var d when d > ClockSkewWarning => new("clock", Warn, $"{text}: run NTP on both"),
            _ => new("clock", Ok, text),
        };
    }

    private static DoctorFinding FreeDisk(string dataDirectory)
    {
        var drive = new DriveInfo(Path.GetFullPath(dataDirectory));
        var free = drive.AvailableFreeSpace;
        var share = drive.TotalSize == 0 ? 1.0 : (double)free / drive.TotalSize;
        var text = string.Create(CultureInfo.InvariantCulture, $"{free / (1024.0 * 1024 * 1024):0.0} GiB free ({share * 100:0}%) for the spool, the queue and blobs");
        return free < MinimumFreeBytes ? new("disk", Unsafe, $"{text}: below 1 GiB the SMTP spool refuses mail")
            : share < 0.1 ? new("disk", Warn, $"{text}: under 10%")
            : new("disk", Ok, text);
    }

    private IReadOnlyList<string> OperatorDomains() =>
    [
        .. _services.GetRequiredService<IOptions<MailboxOptions>>().Value.NormalizedDomains
            .Concat(_services.GetRequiredService<IOptions<AliasOptions>>().Value.Domains.Select(DkimKeyAdmin.NormalizeDomain).OfType<string>())
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal),
    ];

    private static int TryLength(string base64)
    {
        var buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64.Trim(), buffer, out var written) ? written : 0;
    }

    private static bool IsSocket(FileSystemInfo entry) => !OperatingSystem.IsWindows() && entry is FileInfo && (entry.Attributes & FileAttributes.Device) != 0;

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0xFFF, 8);
}

/// <summary>In production, the doctor's findings that are not ok are logged as warnings once the server has started.</summary>
internal sealed partial class DoctorAtStart(IServiceScopeFactory scopes, Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime, Microsoft.Extensions.Logging.ILogger<DoctorAtStart> logger)
    : Microsoft.Extensions.Hosting.BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            await started.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            foreach (var finding in await scope.ServiceProvider.GetRequiredService<ProductionDoctor>().RunAsync(stoppingToken))
            {
                if (finding.Status != ProductionDoctor.Ok)
                {
                    LogFinding(logger, finding.Status, finding.Check, finding.Message);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(logger, e.GetType().Name);
        }
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "veil admin doctor: {Status} {Check}: {Message}")]
    private static partial void LogFinding(Microsoft.Extensions.Logging.ILogger logger, string status, string check, string message);

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "veil admin doctor could not finish its checks at start ({Error}); run it by hand")]
    private static partial void LogFailed(Microsoft.Extensions.Logging.ILogger logger, string error);
}
