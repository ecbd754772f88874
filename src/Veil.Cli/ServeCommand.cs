using Veil.Server.Platform.Persistence;
using System.CommandLine;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Veil.Server;

namespace Veil.Cli;

/// <summary><c>veil serve</c>: runs the server until Ctrl-C or SIGTERM.</summary>
internal static class ServeCommand
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    public static Command Create(Option<bool> json)
    {
        var data = new Option<string?>("--data") { Description = "Data directory (default ./.data; created with mode 0700)", HelpName = "DIR" };
        var http = new Option<string?>("--http") { Description = $"URL to listen on (default {DefaultUrl}; port 0 picks a free port)", HelpName = "URL" };
        var production = new Option<bool>("--production") { Description = "Production mode: every server key must be configured (Veil:Keys:*)" };
        var postgres = new Option<string?>("--postgres") { Description = "PostgreSQL connection string (default: SQLite in the data directory)", HelpName = "CONNSTR" };
        var smtp = new Option<string?>("--smtp") { Description = "Also accept mail by SMTP on this address (Veil:Mail:Smtp:Listen), e.g. 127.0.0.1:2525; port 0 picks a free port", HelpName = "ADDR:PORT" };
        smtp.Validators.Add(result =>
        {
            if (!SmtpListenSyntax.IsValid(result.GetValueOrDefault<string?>()))
            {
                result.AddError("--smtp must be ADDR:PORT with an IP address, e.g. 127.0.0.1:2525 or [::]:25");
            }
        });
        http.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            if (value is not null && (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            {
                result.AddError("--http must be an absolute http:// or https:// URL, e.g. http://127.0.0.1:5080");
            }
        });
        data.Validators.Add(result =>
        {
            if (string.IsNullOrWhiteSpace(result.GetValueOrDefault<string?>()))
            {
                result.AddError("--data needs a directory");
            }
        });

        var command = new Command("serve", "Start the Veil server") { data, http, production, postgres, smtp };
        command.SetAction((parse, cancellationToken) => RunAsync(
            new ServeArguments(parse.GetValue(data), parse.GetValue(http), parse.GetValue(production), parse.GetValue(postgres), parse.GetValue(smtp)),
            new CliOutput(parse.GetValue(json), Console.Out, Console.Error),
            cancellationToken));
        return command;
    }

    private static bool IsAddressInUse(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is Microsoft.AspNetCore.Connections.AddressInUseException
                || inner is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse })
            {
                return true;
            }
        }

        return false;
    }

    private sealed record ServeArguments(string? Data, string? Http, bool Production, string? Postgres, string? Smtp);

    private static async Task<int> RunAsync(ServeArguments arguments, CliOutput output, CancellationToken cancellationToken)
    {
        var setup = new VeilServerSetup
        {
            // Veil prints its own start-up lines (below). The host's "Now listening on" / "Hosting environment:
            // Production" lines repeat or contradict them (a development run is not "Production"), and the host logs a
            // failed start with the whole stack trace before rethrowing it, which RunAsync reports in one line.
            ConfigureLogging = logging => logging
                .AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning)
                .AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical),
        };
        if (arguments.Data is not null)
        {
            setup.Settings["Veil:DataDirectory"] = arguments.Data;
        }

        if (arguments.Production)
        {
            setup.Settings["Veil:Production"] = "true";
        }

        if (arguments.Postgres is not null)
        {
            setup.Settings["ConnectionStrings:Postgres"] = arguments.Postgres;
        }

        if (arguments.Smtp is not null)
        {
            setup.Settings["Veil:Mail:Smtp:Listen"] = arguments.Smtp;
        }

        setup.Settings["urls"] = arguments.Http ?? Environment.GetEnvironmentVariable("ASPNETCORE_URLS") ?? DefaultUrl;

        Microsoft.AspNetCore.Builder.WebApplication app;
        try
        {
            app = VeilServer.Build(setup);
        }
        catch (VeilStartupException e)
        {
            foreach (var problem in e.Problems)
            {
                output.Error(problem);
            }

            return VeilCommand.Failed;
        }

        await using (app)
        {
            try
            {
                await VeilServer.StartAsync(app, cancellationToken);
            }
            catch (OptionsValidationException e)
            {
                foreach (var failure in e.Failures)
                {
                    output.Error(failure);
                }

                return VeilCommand.Failed;
            }
            catch (DatabaseUnavailableException e)
            {
                output.Error(e.Message);
                return VeilCommand.Failed;
            }
            catch (Exception e) when (IsAddressInUse(e))
            {
                // Kestrel's bind failure is an IOException around AddressInUseException; the SMTP listener's a SocketException.
                output.Error(e is IOException
                    ? $"cannot listen on {setup.Settings["urls"]}: the address is already in use (another 'veil serve'?): stop it or pick another with --http URL"
                    : $"cannot listen for SMTP on {arguments.Smtp ?? "the configured address"}: the address is already in use: stop the other server or pick another with --smtp ADDR:PORT");
                return VeilCommand.Failed;
            }
            catch (IOException e)
            {
                // Kestrel reports a bad endpoint as IOException; its message names the address only.
                output.Error($"cannot listen: {e.Message.ReplaceLineEndings(" ")}");
                return VeilCommand.Failed;
            }

            var urls = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
            var dataDirectory = VeilServer.DataDirectoryOf(app);
            var database = VeilServer.DatabaseOf(app);
            var smtpAddress = VeilServer.SmtpEndPointOf(app)?.ToString();
            var outbox = VeilServer.DevelopmentOutboxOf(app);
            var outgoing = VeilServer.OutgoingMailOf(app);
            var dkim = VeilServer.AliasDkimRecordsOf(app);
            output.Event(
                string.Join(Environment.NewLine, urls.Select(u => $"Veil is listening on {u}"))
                + (smtpAddress is null ? "" : Environment.NewLine + $"Veil SMTP is listening on {smtpAddress}")
                + Environment.NewLine + $"Data directory: {dataDirectory}"
                + Environment.NewLine + $"Database: {database}"
                + (outbox is null ? "" : Environment.NewLine + $"Outgoing mail (no smarthost, Veil:Mail:Smarthost): written as .eml files to {outbox}")
                + (outgoing is null ? "" : Environment.NewLine + $"Outgoing mail: {outgoing}")
                + string.Concat(dkim.Select(k => Environment.NewLine + $"DKIM for {k.Domain}: publish TXT {k.RecordName} \"{k.RecordValue}\" (veil admin dkim show {k.Domain})"))
                + Environment.NewLine + "Press Ctrl-C to stop.",
                new
                {
                    @event = "listening",
                    urls,
                    smtp = smtpAddress,
                    dataDirectory,
                    database,
                    outbox,
                    outgoing,
                    dkim = dkim.Select(k => new { domain = k.Domain, selector = k.Selector, name = k.RecordName, value = k.RecordValue }).ToArray(),
                });

            await app.WaitForShutdownAsync(CancellationToken.None);
        }

        output.Event("Veil stopped.", new { @event = "stopped" });
        return VeilCommand.Ok;
    }
}

/// <summary>The syntax <c>--smtp</c> accepts; the server validates the same setting again at start.</summary>
internal static class SmtpListenSyntax
{
    public static bool IsValid(string? value)
    {
        if (value is null)
        {
            return true;
        }

        int colon = value.LastIndexOf(':');
        if (colon <= 0 || colon == value.Length - 1 || !ushort.TryParse(value.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            return false;
        }

        var host = value[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            return false;
        }

        return System.Net.IPAddress.TryParse(host, out _);
    }
}
