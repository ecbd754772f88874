using System.CommandLine;
using QRCoder;
using Veil.Client;
using Veil.Client.Identity;

namespace Veil.Cli.Account;

/// <summary><c>veil account 2fa enable|disable|backup-codes</c>.</summary>
internal static class TwoFactorCommands
{
    public static Command Enable(AccountOptions options)
    {
        var command = new Command("enable", "Turn on TOTP: shows an otpauth:// URI (and a QR code on a terminal), then asks for a code") { options.Code };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                // With --code, confirm the enrolment a previous run started (starting a new one would
                // replace the secret the authenticator just learned).
                if (cli.GivenCode() is not { Length: > 0 } code)
                {
                    var enrolment = await client.Identity.BeginTotpEnrolmentAsync(ct);
                    var qr = cli.Interactive ? TerminalQr(enrolment.OtpauthUri) : null;
                    cli.Output.Event(
                        (qr is null ? string.Empty : qr + Environment.NewLine)
                        + $"Add this to your authenticator app:{Environment.NewLine}  {enrolment.OtpauthUri}{Environment.NewLine}  (secret: {enrolment.Secret})",
                        new { @event = "totp-enrolment", otpauthUri = enrolment.OtpauthUri, secret = enrolment.Secret });

                    if (!cli.Interactive)
                    {
                        // A script reads the URI above and answers with the code on stdin; when stdin
                        // ends instead, the enrolment stays pending for `2fa enable --code CODE`.
                        var line = Console.In.ReadLine()?.Trim();
                        if (string.IsNullOrEmpty(line))
                        {
                            cli.Output.Event("Enrolment pending: confirm with 'veil account 2fa enable --code CODE'.", new { @event = "totp-pending" });
                            return VeilCommand.Ok;
                        }

                        code = line;
                    }
                    else
                    {
                        Console.Error.Write("Code from the app: ");
                        code = Console.ReadLine()?.Trim() ?? string.Empty;
                    }
                }

                var backup = await client.Identity.ConfirmTotpAsync(code, ct);
                cli.Output.Event("Two-factor authentication is on.", new { @event = "totp-enabled" });
                PrintCodes(cli, "Backup codes (each works once instead of a TOTP code; store them offline — they are not shown again):", "backup-codes", backup.Codes);
            }

            return VeilCommand.Ok;
        });
    }

    public static Command Disable(AccountOptions options)
    {
        var command = new Command("disable", "Turn off TOTP (and delete the backup codes)") { options.Code };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                await cli.WithStepUpAsync(client, () => client.Identity.DisableTotpAsync(ct), ct);
            }

            cli.Output.Event("Two-factor authentication is off.", new { @event = "totp-disabled" });
            return VeilCommand.Ok;
        });
    }

    public static Command BackupCodes(AccountOptions options)
    {
        var command = new Command("backup-codes", "Make a new set of 8 backup codes (the old set stops working)") { options.Code };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var codes = await cli.WithStepUpAsync(client, () => client.Identity.RegenerateBackupCodesAsync(ct), ct);
                PrintCodes(cli, "Backup codes (each works once instead of a TOTP code; store them offline — they are not shown again):", "backup-codes", codes.Codes);
            }

            return VeilCommand.Ok;
        });
    }

    public static void PrintCodes(AccountCli cli, string heading, string eventName, IReadOnlyList<string> codes) =>
        cli.Output.Event(
            heading + Environment.NewLine + string.Join(Environment.NewLine, codes.Select(c => "  " + c)),
            new { @event = eventName, codes });

    /// <summary>The URI as a QR code of half-block characters, for scanning off the terminal.</summary>
    private static string TerminalQr(string uri)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(uri, QRCodeGenerator.ECCLevel.L);
        using var ascii = new AsciiQRCode(data);
        return ascii.GetGraphicSmall(drawQuietZones: true, invert: false, endOfLine: Environment.NewLine);
    }
}
