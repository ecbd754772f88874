// `veil admin doctor`: the production self-check (ProductionDoctor). Exit 0 when nothing is unsafe (warnings
// allowed), 1 when something is — including a configuration `veil serve` would refuse, whose refusals it prints.
using System.CommandLine;
using Veil.Server.Platform.Diagnostics;

namespace Veil.Cli.Admin;

internal static class AdminDoctorCommand
{
    public static Command Create(Option<bool> json, Option<string?> data, Option<string?> postgres, Option<bool> production)
    {
        var doctor = new Command("doctor", "Check how safely this installation is configured: data directory, keys, TLS, DNS of mail domains, clock, disk");
        doctor.SetAction((parse, ct) => AdminCommand.RunServiceAsync<ProductionDoctor>(parse, json, data, postgres, production, async (doctor, output) =>
        {
            var findings = await doctor.RunAsync(ct);
            var unsafeCount = findings.Count(f => f.Status == ProductionDoctor.Unsafe);
            var warnings = findings.Count(f => f.Status == ProductionDoctor.Warn);
            var verdict = unsafeCount > 0 ? $"{unsafeCount} unsafe, {warnings} to improve" : warnings > 0 ? $"nothing unsafe, {warnings} to improve" : "nothing unsafe";
            output.Event(
                string.Join(Environment.NewLine, findings.Select(f => $"{Label(f.Status)}  {f.Check}: {f.Message}")) + Environment.NewLine + verdict,
                new { @unsafe = unsafeCount, warnings, findings });
            return unsafeCount > 0 ? VeilCommand.Failed : VeilCommand.Ok;
        }, ct));
        return doctor;
    }

    private static string Label(string status) => status switch
    {
        ProductionDoctor.Ok => "ok    ",
        ProductionDoctor.Warn => "warn  ",
        _ => "UNSAFE",
    };
}
