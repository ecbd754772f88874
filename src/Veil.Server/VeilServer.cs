// The composition root: the one place the server is assembled. `veil serve` and the test kit both
// come through Build, so what the tests run is what operators run.
using Veil.Crypto.Native;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Crypto.Keys;
using Veil.Server.Platform.Audit;
using Veil.Server.Platform.Backup;
using Veil.Server.Platform.Blobs;
using Veil.Server.Platform.Diagnostics;
using Veil.Server.Platform.Hosting;
using Veil.Server.Platform.Keys;
using Veil.Server.Platform.Outbox;
using Veil.Server.Platform.Persistence;
using Veil.Server.Platform.Plans;
using Veil.Server.Platform.Problems;
using Veil.Server.Platform.RateLimiting;
using Veil.Server.Platform.Wakeups;

namespace Veil.Server;

public static partial class VeilServer
{
    /// <summary>
    /// Builds the server from the standard .NET configuration sources (appsettings.json, environment
    /// variables, arguments) plus <see cref="VeilServerSetup.Settings"/>. The data directory and the
    /// keyring are checked here; other options are validated when the host starts.
    /// </summary>
    /// <exception cref="VeilStartupException">The configuration is unusable; every problem is listed.</exception>
    public static WebApplication Build(VeilServerSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [.. setup.Args],
            EnvironmentName = setup.EnvironmentName,
        });
        builder.Configuration.AddInMemoryCollection(setup.Settings);
        var configuration = builder.Configuration;

        var veil = configuration.GetSection(VeilOptions.Section).Get<VeilOptions>() ?? new VeilOptions();
        var problems = new List<string>(CryptoRuntime.Check());
        var dataDirectory = DataDirectory.Prepare(veil.DataDirectory, problems);
        var keys = KeyringLoader.Load(configuration, dataDirectory, veil.Production);
        problems.AddRange(keys.Problems);
        problems.AddRange(OutboxRegistration.Problems(configuration));
        problems.AddRange(DatabaseTls.Problems(configuration));
        _ = BackupOptions.Read(configuration, problems);
        problems.AddRange(BlobStoreRegistration.Problems(configuration));
        if (problems.Count > 0 || keys.Keyring is null || dataDirectory is null)
        {
            keys.Keyring?.Dispose();
            throw new VeilStartupException(problems);
        }

        ConfigureLogging(builder.Logging);
        setup.ConfigureLogging?.Invoke(builder.Logging);

        var services = builder.Services;
        var keyring = keys.Keyring;
        services.AddSingleton(_ => keyring); // factory registration: the container disposes (wipes) it at shutdown
        services.TryAddSingleton(setup.TimeProvider ?? TimeProvider.System);
        services.AddSingleton(new VeilPaths(dataDirectory));
        services.TryAddSingleton<PublicOrigin>();
        services.AddSingleton<VeilMetrics>();
        services.AddScoped(sp => new ProductionDoctor(sp, sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<IOptions<VeilOptions>>(), sp.GetRequiredService<TimeProvider>()));
        if (veil.Production)
        {
            services.AddHostedService<DoctorAtStart>();
        }


        services.AddOptions<VeilOptions>().BindConfiguration(VeilOptions.Section).ValidateOnStart();
        services.TryAddSingleton<IValidateOptions<VeilOptions>, VeilOptionsValidator>();
        services.AddOptions<RequestLimitsOptions>().BindConfiguration(RequestLimitsOptions.Section).ValidateOnStart();
        services.TryAddSingleton<IValidateOptions<RequestLimitsOptions>, RequestLimitsOptionsValidator>();
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<RequestLimitsOptions>>((kestrel, limits) =>
        {
            kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBodyBytes;
            kestrel.AddServerHeader = false;
        });

        services.AddOptions<OutboxOptions>().BindConfiguration(OutboxOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.From) && o.From.AsSpan().IndexOfAny('\r', '\n') < 0,
                "Veil:Outbox:From (env Veil__Outbox__From): must be a single-line address")
            .ValidateOnStart();
        services.AddVeilOutbox(configuration, dataDirectory); // SMTP queue to Veil:Mail:Smarthost, else .eml files in <data>/outbox

        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<VeilOptions>>((forwarded, veil) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.ForwardLimit = 1; // only the address the (last) trusted proxy appended
            forwarded.KnownProxies.Clear(); // ASP.NET trusts loopback by default; Veil trusts only what is configured
            forwarded.KnownIPNetworks.Clear();
            foreach (var network in veil.Value.TrustedProxyNetworks)
            {
                forwarded.KnownIPNetworks.Add(network);
            }
        });
        services.AddVeilProblems();
        services.AddVeilRateLimiting(configuration);
        services.AddVeilPersistence(configuration, dataDirectory);
        services.AddVeilWakeups(configuration); // Platform/Wakeups: in-process on SQLite, LISTEN/NOTIFY on PostgreSQL
        services.AddVeilPlans(); // Veil:Plans: per-account limits (Platform/Plans)
        services.AddVeilAdminAudit(configuration); // operator actions, append-only (Platform/Audit)
        services.AddVeilBackups(configuration); // encrypted backups, the scheduled job (Platform/Backup)
        services.AddVeilBlobs(configuration, dataDirectory); // Veil:Blobs:Store: files under <data>/blobs, or an S3 bucket (Platform/Blobs)
        services.AddModules(configuration);
        setup.ConfigureServices?.Invoke(services);

        var app = builder.Build();
        if (keys.Development is { } development)
        {
            LogDevelopmentKeyring(
                app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(KeyringLoader).FullName!),
                development.Generated ? "generated" : "using",
                development.Path,
                string.Join(",", development.Names));
        }

        // Before anything reads the client address (logging, rate limits, Drop's per-IP quotas, diagnostics). Only with
        // Veil:TrustedProxies: the middleware with no known proxy would trust every peer.
        if (configuration.GetSection("Veil:TrustedProxies").GetChildren().Any())
        {
            app.UseForwardedHeaders();
        }
        app.UseMiddleware<SecurityHeadersMiddleware>();
        app.UseMiddleware<RequestLoggingMiddleware>();
        app.UseVeilProblems();
        app.UseWebSockets(); // the chat relay (/chat/ws)
        app.UseRouting();
        app.UseRateLimiter();
        app.UseMiddleware<JsonBodyGuardMiddleware>();

        app.MapVeilDiagnostics();
        app.MapModuleEndpoints();
        setup.MapEndpoints?.Invoke(app);
        return app;
    }

    /// <summary>Applies database migrations, then starts listening.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(app);
        await app.Services.MigrateVeilDatabaseAsync(cancellationToken);
        // Before SMTP opens: the first forwarded message is already signed.
        app.Services.GetRequiredService<Mail.AliasDkimKeys>().Records = await Mail.AliasDkimKeys.EnsureAsync(app.Services, cancellationToken);
        await app.StartAsync(cancellationToken);
    }

    /// <summary>Where development mail is written as .eml files (no Veil:Mail:Smarthost); null when mail leaves by SMTP.</summary>
    /// <summary>How mail leaves this server and its TLS policy (one line), or null for the development .eml outbox.</summary>
    public static string? OutgoingMailOf(WebApplication app) =>
        OutboxRegistration.OutgoingSummary((app ?? throw new ArgumentNullException(nameof(app))).Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>());

    public static string? DevelopmentOutboxOf(WebApplication app) => OutboxRegistration.DevelopmentOutboxOf(app?.Services ?? throw new ArgumentNullException(nameof(app)));

    /// <summary>
    /// The DKIM key each configured alias domain signs with (its newest; one created at this start when it had none),
    /// with the DNS TXT record to publish; empty before <see cref="StartAsync"/> or without alias domains.
    /// </summary>
    public static IReadOnlyList<Mail.DkimKeyView> AliasDkimRecordsOf(WebApplication app) => app?.Services.GetRequiredService<Mail.AliasDkimKeys>().Records ?? throw new ArgumentNullException(nameof(app));

    /// <summary>The absolute data directory the server uses.</summary>
    public static string DataDirectoryOf(WebApplication app) => app?.Services.GetRequiredService<VeilPaths>().DataDirectory ?? throw new ArgumentNullException(nameof(app));

    /// <summary>The address the SMTP server listens on once started; null when SMTP is off (no <c>Veil:Mail:Smtp:Listen</c>).</summary>
    public static System.Net.IPEndPoint? SmtpEndPointOf(WebApplication app) => app?.Services.GetRequiredService<Mail.SmtpHostService>().LocalEndPoint ?? (app is null ? throw new ArgumentNullException(nameof(app)) : null);

    /// <summary>"sqlite" or "postgres".</summary>
    public static string DatabaseOf(WebApplication app) => app?.Services.GetRequiredService<IDatabaseInfo>().ProviderName ?? throw new ArgumentNullException(nameof(app));

    // Framework categories log request paths, query strings and client addresses (and the hosting
    // request scope carries the path), so they are held at Warning or silenced. These rules are
    // added after the configuration's Logging section, so an appsettings.json cannot undo them.
    private static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("System", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        logging.AddFilter("Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware", LogLevel.None);
        logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Error);
        logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Warning);
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning,
        Message = "DEVELOPMENT KEYRING ({Action}) at {Path} for keys [{Names}]: not for production; configure Veil:Keys:* and run with --production")]
    private static partial void LogDevelopmentKeyring(ILogger logger, string action, string path, string names);
}

/// <summary>Where the server keeps its files.</summary>
internal sealed record VeilPaths(string DataDirectory);
