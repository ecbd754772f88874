using System.Runtime.Versioning;

namespace Veil.Cli.Tests;

/// <summary>
/// Issue 14, finding 1: <c>veil serve --production</c> started without <c>Veil:PublicOrigin</c>, and mailed links then
/// came from the request's Host header. Production now refuses to start without it, naming the setting on one line.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class ServePublicOriginTests : IDisposable
{
    private static readonly string[] KeyNames = ["field", "index", "session", "refresh", "recovery", "reply", "srs", "escrow", "report", "chat", "transparency"];
    private readonly string _root = Directory.CreateTempSubdirectory("veil-cli-origin-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Serve_ProductionWithKeysButNoPublicOrigin_RefusesNamingTheSetting()
    {
        var environment = KeyNames.ToDictionary(n => $"Veil__Keys__{n}", n => Convert.ToBase64String(Enumerable.Range(n.Length, 32).Select(i => (byte)i).ToArray()));
        using var veil = VeilProcess.Start(["serve", "--production", "--data", Path.Combine(_root, "data"), "--http", "http://127.0.0.1:0"], environment);

        var exitCode = await veil.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, exitCode);
        Assert.Single(veil.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries),
            l => l.StartsWith("veil: Veil:PublicOrigin (env Veil__PublicOrigin): required in production", StringComparison.Ordinal));
        Assert.DoesNotContain("Veil is listening", veil.Stdout, StringComparison.Ordinal);
    }
}
