using System.Diagnostics;
using System.Text;
using Veil.Server.Tests.Kit;

namespace Veil.Cli.Tests.Drop;

/// <summary>The result of one `veil` run.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public string LastLine => StdoutLines.LastOrDefault() ?? string.Empty;

    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>
/// One test's world: the real Veil server in process (loopback, manual clock, 1 MiB parts) and `veil` run as a child
/// process with its own config and cache directories.
/// </summary>
internal sealed class DropCli : IAsyncDisposable
{
    private DropCli(VeilTestServer server, string root)
    {
        Server = server;
        Root = root;
        Directory.CreateDirectory(Downloads);
    }

    public VeilTestServer Server { get; }

    public string Root { get; }

    public string ConfigDirectory => Path.Combine(Root, "config");

    public string CacheDirectory => Path.Combine(Root, "cache");

    public string Downloads => Path.Combine(Root, "downloads");

    public string Origin => Server.BaseAddress.ToString().TrimEnd('/');

    public static async Task<DropCli> StartAsync(int partSize = 1024 * 1024)
    {
        string root = Directory.CreateTempSubdirectory("veil-drop-cli-").FullName;
        VeilTestServer server = await VeilTestServer.StartAsync(o => o.Settings["Veil:Drop:PartSizeBytes"] = partSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new DropCli(server, root);
    }

    public string WriteRandomFile(string name, int size)
    {
        string path = Path.Combine(Root, name);
        File.WriteAllBytes(path, System.Security.Cryptography.RandomNumberGenerator.GetBytes(size));
        return path;
    }

    public Process Start(IEnumerable<string> args, bool redirectInput = false, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
            WorkingDirectory = Root,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(VeilDll);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["VEIL_CONFIG_DIR"] = ConfigDirectory;
        info.Environment["VEIL_CACHE_DIR"] = CacheDirectory;
        info.Environment["VEIL_SERVER"] = Origin;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        return Process.Start(info)!;
    }

    public async Task<CliResult> RunAsync(IEnumerable<string> args, string? stdin = null, int timeoutSeconds = 120, IReadOnlyDictionary<string, string>? environment = null)
    {
        using Process process = Start(args, redirectInput: true, environment);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"veil {string.Join(' ', args)} did not finish in {timeoutSeconds} s");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Sends a file and returns the link (the last stdout line), asserting success.</summary>
    public async Task<string> SendAsync(string path, params string[] extra)
    {
        CliResult result = await RunAsync(["drop", "send", path, .. extra]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.LastLine;
    }

    /// <summary>The files of one drop in the server's blob store (the content parts, in order).</summary>
    public string[] BlobFiles(string id) =>
        [.. Directory.GetFiles(Path.Combine(Server.DataDirectory, "blobs"), "*", SearchOption.AllDirectories)
            .Where(f => f.Contains(id, StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }

    private static string VeilDll
    {
        get
        {
            string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Parent?.Name ?? "Debug";
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string built = Path.Combine(dir.FullName, "src", "Veil.Cli", "bin", configuration, "net10.0", "veil.dll");
                if (File.Exists(Path.Combine(dir.FullName, "Veil.slnx")) && File.Exists(built))
                {
                    return built;
                }
            }

            return Path.Combine(AppContext.BaseDirectory, "veil.dll");
        }
    }
}
