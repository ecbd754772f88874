using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Veil.Server.Tests.Kit;

/// <summary>What a test may change about the server it starts.</summary>
public sealed class VeilTestServerOptions
{
    /// <summary>Configuration settings (override everything else).</summary>
    public Dictionary<string, string?> Settings { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Action<IServiceCollection>? ConfigureServices { get; set; }

    /// <summary>Test-only endpoints, for exercising platform features no module uses yet.</summary>
    public Action<IEndpointRouteBuilder>? MapEndpoints { get; set; }

    /// <summary>ASP.NET environment; "Testing" is not Development, so errors look as in production.</summary>
    public string EnvironmentName { get; set; } = "Testing";

    /// <summary>
    /// Start another node of this server: the same database, data directory (so the same development keyring: a token
    /// issued by one node is valid on the other) and clock, its own Kestrel port and process-level services. Disposing
    /// the node stops it only; the first server still owns the database and directory.
    /// </summary>
    public VeilTestServer? NodeOf { get; set; }

    /// <summary>
    /// Start on this data directory (e.g. one a backup was restored into) instead of a fresh one; the server owns it and
    /// deletes it when disposed.
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>Start on this database (e.g. a restored one) instead of a fresh one; the server owns it and drops it when disposed.</summary>
    public TestDatabase? Database { get; set; }
}

/// <summary>
/// The real Veil server on Kestrel, loopback, a free port, a fresh data directory, a manual clock,
/// the database chosen by VEIL_TEST_DATABASE, and every log line captured. Dispose it (await using,
/// or an xunit IAsyncLifetime fixture) to stop it and delete its data.
/// </summary>
public sealed class VeilTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TestDatabase _database;
    private readonly bool _ownsData;

    private VeilTestServer(WebApplication app, TestDatabase database, bool ownsData, string dataDirectory, ManualTimeProvider time, CapturingLoggerProvider logs, Uri address)
    {
        _app = app;
        _database = database;
        _ownsData = ownsData;
        DataDirectory = dataDirectory;
        Time = time;
        Logs = logs;
        BaseAddress = address;
        Client = new HttpClient { BaseAddress = address };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public ManualTimeProvider Time { get; }

    public CapturingLoggerProvider Logs { get; }

    public string DataDirectory { get; }

    /// <summary>"sqlite" or "postgres".</summary>
    public string Database => _database.Provider;

    public IServiceProvider Services => _app.Services;

    public static async Task<VeilTestServer> StartAsync(Action<VeilTestServerOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var options = new VeilTestServerOptions();
        configure?.Invoke(options);
        var first = options.NodeOf;
        var dataDirectory = first?.DataDirectory ?? options.DataDirectory ?? Path.Combine(Path.GetTempPath(), "veil-test-" + Guid.NewGuid().ToString("N"));
        var time = first?.Time ?? new ManualTimeProvider();
        var logs = new CapturingLoggerProvider();
        var database = first is null ? options.Database ?? await TestDatabase.CreateAsync(cancellationToken) : first._database;
        try
        {
            var setup = new VeilServerSetup
            {
                EnvironmentName = options.EnvironmentName,
                TimeProvider = time,
                ConfigureLogging = logging =>
                {
                    logging.ClearProviders();
                    logging.SetMinimumLevel(LogLevel.Trace);
                    logging.AddProvider(logs);
                },
                ConfigureServices = options.ConfigureServices,
                MapEndpoints = options.MapEndpoints,
            };
            setup.Settings["urls"] = "http://127.0.0.1:0";
            setup.Settings["Veil:DataDirectory"] = dataDirectory;
            if (database.ConnectionString is not null)
            {
                setup.Settings["ConnectionStrings:Postgres"] = database.ConnectionString;
            }

            foreach (var (key, value) in options.Settings)
            {
                setup.Settings[key] = value;
            }

            var app = VeilServer.Build(setup);
            try
            {
                await VeilServer.StartAsync(app, cancellationToken);
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }

            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            return new VeilTestServer(app, database, ownsData: first is null, dataDirectory, time, logs, new Uri(address));
        }
        catch when (first is null)
        {
            await database.DisposeAsync();
            DeleteDirectory(dataDirectory);
            throw;
        }
    }

    public async Task<HealthDto> GetHealthAsync(CancellationToken cancellationToken = default)
    {
        using var response = await Client.GetAsync(new Uri("/health", UriKind.Relative), cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<HealthDto>(cancellationToken))!;
    }

    /// <summary>Every message in the development outbox, oldest first.</summary>
    public IReadOnlyList<OutboxMail> ReadOutbox()
    {
        var outbox = Path.Combine(DataDirectory, "outbox");
        return !Directory.Exists(outbox)
            ? []
            : [.. Directory.GetFiles(outbox, "*.eml").Order(StringComparer.Ordinal)
                .Select(path => OutboxMail.Parse(Path.GetFileName(path), File.ReadAllText(path)))];
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownsData)
        {
            await _database.DisposeAsync();
            DeleteDirectory(DataDirectory);
        }
    }

    private static void DeleteDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}

public sealed record HealthDto(string Status, string Version, string Database);
