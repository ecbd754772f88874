using System.Diagnostics;
using System.Text.Json;

namespace Veil.Cli.Tests;

/// <summary>The result of one <c>veil</c> run.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The JSON lines of stdout (with --json).</summary>
    public IReadOnlyList<JsonElement> Json =>
        [.. Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith('{') || l.StartsWith('['))
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    /// <summary>The JSON line whose "event" member is <paramref name="name"/>.</summary>
    public JsonElement Event(string name) =>
        Json.Single(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("event", out var v) && v.GetString() == name);

    public override string ToString() => $"exit {ExitCode}; stdout: {Stdout}; stderr: {Stderr}";
}

/// <summary>Runs the built <c>veil</c> as a client process with its own config directory and stdin.</summary>
internal sealed class VeilCli(Uri? server, string configDirectory)
{
    public string ConfigDirectory { get; } = configDirectory;

    public string SessionFile => Path.Combine(ConfigDirectory, "session.json");

    public async Task<CliResult> RunAsync(string[] args, string? stdin = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add(VeilDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("VEIL_SERVER");
        if (server is not null)
        {
            info.Environment["VEIL_SERVER"] = server.ToString();
        }

        info.Environment["VEIL_CONFIG_DIR"] = ConfigDirectory;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>veil.dll as built beside the source (src/Veil.Cli/bin/...), or next to the tests (as VeilProcess finds it).</summary>
    private static string VeilDll
    {
        get
        {
            var testDirectory = AppContext.BaseDirectory;
            var configuration = new DirectoryInfo(testDirectory).Parent?.Parent?.Name ?? "Debug";
            for (var dir = new DirectoryInfo(testDirectory); dir is not null; dir = dir.Parent)
            {
                var built = Path.Combine(dir.FullName, "src", "Veil.Cli", "bin", configuration, "net10.0", "veil.dll");
                if (File.Exists(Path.Combine(dir.FullName, "Veil.slnx")) && File.Exists(built))
                {
                    return built;
                }
            }

            return Path.Combine(testDirectory, "veil.dll");
        }
    }
}
