using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Veil.Server.Tests.Kit;

/// <summary>
/// A real S3-compatible server for the S3 blob store's tests: npm's s3rver (tests/peers/s3rver, installed by test.sh;
/// ADR 0009) on a free loopback port, with a fresh data directory and one bucket. Without the peer a test fails under
/// CI=true and returns early elsewhere (check <see cref="Available"/>). Dispose it to stop the process and delete its data.
/// </summary>
public sealed partial class S3rver : IAsyncDisposable
{
    public const string Bucket = "veil";

    // s3rver's fixed development credentials.
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private readonly Process? _process;
    private readonly string? _directory;

    private S3rver(Process? process, string? directory, Uri? endpoint)
    {
        _process = process;
        _directory = directory;
        Endpoint = endpoint;
    }

    public bool Available => Endpoint is not null;

    public Uri? Endpoint { get; }

    /// <summary>The settings that make a Veil server store its blobs in this bucket.</summary>
    public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Veil:Blobs:Store"] = "s3",
        ["Veil:Blobs:S3:Endpoint"] = Endpoint!.ToString(),
        ["Veil:Blobs:S3:Bucket"] = Bucket,
        ["Veil:Blobs:S3:AccessKey"] = AccessKey,
        ["Veil:Blobs:S3:SecretKey"] = SecretKey,
    };

    public static string? PeerDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "peers", "s3rver");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public static async Task<S3rver> StartAsync()
    {
        var peer = PeerDirectory();
        var script = peer is null ? null : Path.Combine(peer, "node_modules", "s3rver", "bin", "s3rver.js");
        if (script is null || !File.Exists(script))
        {
            Assert.False(
                string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase),
                "s3rver is required under CI=true: test.sh installs it (npm ci --prefix tests/peers/s3rver)");
            return new S3rver(null, null, null);
        }

        var directory = Directory.CreateTempSubdirectory("veil-s3rver-").FullName;
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { script, "-d", directory, "-a", "127.0.0.1", "-p", "0", "--no-vhost-buckets", "--configure-bucket", Bucket })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            // It prints "S3rver listening on 127.0.0.1:PORT" once the socket is bound (port 0: the kernel chose it).
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                if (Listening().Match(line) is { Success: true } match)
                {
                    // Keep draining its log so the pipe never fills and blocks it.
                    _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None);
                    return new S3rver(process, directory, new Uri($"http://127.0.0.1:{match.Groups[1].Value}"));
                }
            }

            throw new InvalidOperationException("s3rver exited before listening");
        }
        catch
        {
            Stop(process);
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            Stop(_process);
        }

        if (_directory is not null && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        return ValueTask.CompletedTask;
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        process.Dispose();
    }

    [GeneratedRegex(@"listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex Listening();
}

/// <summary>One s3rver for a test class.</summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public S3rver Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await S3rver.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
