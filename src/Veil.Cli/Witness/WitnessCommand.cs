// `veil witness serve --listen ADDR --data DIR --log-key VKEY...`: runs a key transparency witness
// (Veil.Server.Witness.WitnessServer) until Ctrl-C or SIGTERM. It prints its verifier key, which the log's
// operator adds to Veil:KeyTransparency:Witnesses (or the policy file) and clients pin.
using System.CommandLine;
using Microsoft.Extensions.Logging;
using Veil.Server.Witness;

namespace Veil.Cli.Witness;

internal static class WitnessCommand
{
    public const string DefaultListen = "127.0.0.1:7380";

    public static Command Create(Option<bool> json)
    {
        var listen = new Option<string?>("--listen") { Description = $"Address to listen on (default {DefaultListen}; port 0 picks a free port)", HelpName = "ADDR:PORT" };
        var data = new Option<string>("--data") { Description = "The witness's directory: its key (created on first start, mode 0600) and its store", HelpName = "DIR", Required = true };
        var logKey = new Option<string[]>("--log-key") { Description = "Verifier key of a log to witness (as GET /kt/vkey prints it); repeat for several logs", HelpName = "VKEY", Required = true, AllowMultipleArgumentsPerToken = true };
        var name = new Option<string?>("--name") { Description = "The witness's key name when its key is created (default <host>/veil-witness)", HelpName = "NAME" };
        var serve = new Command("serve", "Witness key transparency logs (C2SP tlog-witness)") { listen, data, logKey, name };
        serve.SetAction((parse, cancellationToken) => ServeAsync(
            new WitnessServerOptions
            {
                Listen = parse.GetValue(listen) ?? DefaultListen,
                DataDirectory = parse.GetValue(data)!,
                LogKeys = parse.GetValue(logKey) ?? [],
                Name = parse.GetValue(name),
                ConfigureLogging = logging => logging.AddSimpleConsole(c => c.SingleLine = true)
                    .AddFilter("Microsoft", LogLevel.Warning),
            },
            new CliOutput(parse.GetValue(json), Console.Out, Console.Error),
            cancellationToken));

        return new Command("witness", "Run a key transparency witness") { serve };
    }

    private static async Task<int> ServeAsync(WitnessServerOptions options, CliOutput output, CancellationToken cancellationToken)
    {
        WitnessServer witness;
        try
        {
            witness = await WitnessServer.StartAsync(options, cancellationToken);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            output.Error(e.Message.ReplaceLineEndings(" "));
            return VeilCommand.Failed;
        }

        await using (witness)
        {
            output.Event(
                $"Veil witness is listening on {witness.Address}" + Environment.NewLine
                + $"Witness key: {witness.VerifierKey}" + Environment.NewLine + "Press Ctrl-C to stop.",
                new { @event = "listening", url = witness.Address.ToString(), vkey = witness.VerifierKey });
            await witness.WaitForShutdownAsync(CancellationToken.None);
        }

        output.Event("Veil witness stopped.", new { @event = "stopped" });
        return VeilCommand.Ok;
    }
}
