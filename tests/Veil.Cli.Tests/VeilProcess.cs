using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Veil.Cli.Tests;

/// <summary>The built <c>veil</c> command run as a real process (<c>dotnet veil.dll ...</c>), output captured.</summary>
internal sealed partial class VeilProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _lock = new();

    private VeilProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Stdout
    {
        get
        {
            lock (_lock)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_lock)
            {
                return _stderr.ToString();
            }
        }
    }

    public static VeilProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add(VeilDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // A clean configuration: nothing from the developer's shell leaks into the server.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("Veil__", StringComparison.OrdinalIgnoreCase) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return new VeilProcess(Process.Start(info)!);
    }

    /// <summary>The http URL the server printed, once it did (polls until the deadline).</summary>
    public async Task<Uri> WaitForListeningAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (ListeningLine().Match(Stdout) is { Success: true } match)
            {
                return new Uri(match.Groups[1].Value);
            }

            if (_process.HasExited)
            {
                throw new InvalidOperationException($"veil exited with {_process.ExitCode}: {Stderr}");
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"veil did not print its address within {timeout}. stdout: {Stdout} stderr: {Stderr}");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as systemd or docker stop would.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            target.AppendLine(line);
        }
    }

    /// <summary>veil.dll as built beside the source (src/Veil.Cli/bin/...), or next to the tests.</summary>
    private static string VeilDll
    {
        get
        {
            var testDirectory = AppContext.BaseDirectory;
            var configuration = new DirectoryInfo(testDirectory).Parent?.Parent?.Name ?? "Debug";
            for (var dir = new DirectoryInfo(testDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Veil.slnx")))
                {
                    var built = Path.Combine(dir.FullName, "src", "Veil.Cli", "bin", configuration, "net10.0", "veil.dll");
                    if (File.Exists(built))
                    {
                        return built;
                    }
                }
            }

            return Path.Combine(testDirectory, "veil.dll");
        }
    }

    [GeneratedRegex(@"Veil (?:witness )?is listening on (http://\S+)")]
    private static partial Regex ListeningLine();
}
