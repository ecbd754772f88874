// `veil witness serve`: a small, separate Kestrel app that witnesses transparency logs (c2sp.org/tlog-witness).
// It holds its own Ed25519 key and store (WitnessStore) and knows the logs it witnesses by their verifier keys:
//   POST /add-checkpoint            cosign a checkpoint that extends the last one cosigned (AddCheckpoint)
//   GET  /checkpoint?origin=<o>     the latest checkpoint cosigned for that log, with the log's signature and this
//                                   witness's cosignature — for monitors comparing what they were shown
//                                   (the tlog-witness spec leaves monitor retrieval open; this GET is Veil's)
//   GET  /vkey                      this witness's cosignature verifier key
// It shares no state, database or key with a Veil server: an operator runs it elsewhere, ideally someone else does.
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Veil.Crypto.Transparency;

namespace Veil.Server.Witness;

/// <summary>What a witness is started with.</summary>
public sealed class WitnessServerOptions
{
    /// <summary>The address to listen on: <c>host:port</c> or an http URL; port 0 picks a free one.</summary>
    public string Listen { get; set; } = "127.0.0.1:0";

    /// <summary>The witness's directory (its key and its store).</summary>
    public required string DataDirectory { get; set; }

    /// <summary>The Ed25519 verifier keys of the logs to witness; each key's name is its log's origin.</summary>
    public IReadOnlyList<string> LogKeys { get; set; } = [];

    /// <summary>The witness's key name, used when its key is created (default "&lt;host&gt;/veil-witness").</summary>
    public string? Name { get; set; }

    /// <summary>The clock cosignatures are timestamped with.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Where the witness logs (default: the console).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; set; }
}

/// <summary>A running witness.</summary>
public sealed class WitnessServer : IAsyncDisposable
{
    /// <summary>The largest request a witness reads: a checkpoint with a proof and a few signatures fits many times.</summary>
    public const int MaxRequestBytes = 64 * 1024;

    private readonly WebApplication _app;
    private readonly WitnessStore _store;

    private WitnessServer(WebApplication app, WitnessStore store, Uri address, string verifierKey)
    {
        _app = app;
        _store = store;
        Address = address;
        VerifierKey = verifierKey;
    }

    /// <summary>The address it listens on (the submission and monitoring prefix).</summary>
    public Uri Address { get; }

    /// <summary>Its cosignature verifier key, for logs' witness configuration and clients' policies.</summary>
    public string VerifierKey { get; }

    /// <summary>Starts a witness; bad options (an unparsable log key or address, another name than its key's) throw <see cref="InvalidOperationException"/>.</summary>
    public static async Task<WitnessServer> StartAsync(WitnessServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var logs = new Dictionary<string, Ed25519NoteVerifier>(StringComparer.Ordinal);
        foreach (var vkey in options.LogKeys)
        {
            var verifier = Ed25519NoteVerifier.Parse(vkey)
                ?? throw new InvalidOperationException($"--log-key '{vkey}' is not an Ed25519 verifier key (name+id+key, as GET /kt/vkey prints it).");
            logs[verifier.Name] = verifier;
        }

        if (logs.Count == 0)
        {
            throw new InvalidOperationException("A witness needs at least one --log-key.");
        }

        var url = options.Listen.Contains("://", StringComparison.Ordinal) ? options.Listen : "http://" + options.Listen;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var listen) || listen.Scheme != "http")
        {
            throw new InvalidOperationException($"--listen '{options.Listen}' is not host:port.");
        }

        var store = WitnessStore.Open(options.DataDirectory, options.Name);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (options.ConfigureLogging is { } configureLogging)
        {
            configureLogging(builder.Logging);
        }
        else
        {
            builder.Logging.AddSimpleConsole(c => c.SingleLine = true).AddFilter("Microsoft", LogLevel.Warning);
        }

        builder.WebHost.UseUrls(listen.GetLeftPart(UriPartial.Authority));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = MaxRequestBytes);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(sp => new AddCheckpoint(store, logs, options.Time, sp.GetRequiredService<ILogger<AddCheckpoint>>()));

        var app = builder.Build();
        app.MapPost("/add-checkpoint", async (HttpContext http, AddCheckpoint command, CancellationToken ct) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body, ct);
            var answer = await command.ExecuteAsync(body.ToArray(), ct);
            return Results.Text(answer.Body, answer.ContentType, Encoding.UTF8, answer.Status);
        });
        app.MapGet("/checkpoint", (string? origin, WitnessStore witnessStore) =>
            origin is not null && logs.ContainsKey(origin) && witnessStore.Read(origin) is { } note
                ? Results.Bytes(note, "text/plain; charset=utf-8")
                : Results.NotFound());
        app.MapGet("/vkey", (WitnessStore witnessStore) => Results.Text(witnessStore.VerifierKey + "\n", "text/plain; charset=utf-8"));

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            store.Dispose();
            throw;
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new WitnessServer(app, store, new Uri(bound.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)), store.VerifierKey);
    }

    /// <summary>Runs until the host is told to stop (Ctrl-C, SIGTERM).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _store.Dispose();
    }
}
