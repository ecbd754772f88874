using System.Diagnostics;
using Veil.Server.Tests.Kit;

namespace Veil.E2E.Tests;

/// <summary>How the server delivers the web client, and the TypeScript checks of the shared vectors.</summary>
public sealed class WebClientTests
{
    private const string PageCsp =
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; style-src 'self'; " +
        "img-src 'self' data: https:; font-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

    [Theory]
    [InlineData("/drop")]
    [InlineData("/")]
    [InlineData("/signin")]
    [InlineData("/register")]
    [InlineData("/verify-email")]
    [InlineData("/magic-link")]
    [InlineData("/app")]
    [InlineData("/app/alias/some-page")]
    [InlineData("/d/AAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Pages_AreHtml_WithThePageCsp_CrossOriginIsolated_NoInlineScript(string path)
    {
        await using var server = await VeilTestServer.StartAsync();

        using var response = await server.Client.GetAsync(new Uri(path, UriKind.Relative));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(PageCsp, string.Join(";", response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("DENY", string.Join(";", response.Headers.GetValues("X-Frame-Options")));
        AssertCrossOriginIsolated(response);
        Assert.DoesNotMatch(@"<script(?![^>]*\bsrc=)", html); // every script is a file of this origin
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assets_AreServedWithThePageCsp_CrossOriginIsolated_AndCachedForGood()
    {
        await using var server = await VeilTestServer.StartAsync();
        var html = await server.Client.GetStringAsync(new Uri("/drop", UriKind.Relative));
        var script = System.Text.RegularExpressions.Regex.Match(html, "src=\"(/web/assets/[^\"]+\\.js)\"").Groups[1].Value;

        using var response = await server.Client.GetAsync(new Uri(script, UriKind.Relative));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(PageCsp, string.Join(";", response.Headers.GetValues("Content-Security-Policy")));
        AssertCrossOriginIsolated(response); // a worker's isolation comes from its own script's headers
        Assert.Contains("immutable", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
    }

    /// <summary>COOP + COEP make the page cross-origin isolated (SharedArrayBuffer for Argon2id's parallel lanes, ADR 0006).</summary>
    private static void AssertCrossOriginIsolated(HttpResponseMessage response)
    {
        Assert.Equal("same-origin", string.Join(";", response.Headers.GetValues("Cross-Origin-Opener-Policy")));
        Assert.Equal("require-corp", string.Join(";", response.Headers.GetValues("Cross-Origin-Embedder-Policy")));
        Assert.Equal("same-origin", string.Join(";", response.Headers.GetValues("Cross-Origin-Resource-Policy")));
    }

    [Fact]
    public async Task Head_OnAPage_IsAnsweredWithoutBody()
    {
        await using var server = await VeilTestServer.StartAsync();

        using var response = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri("/drop", UriKind.Relative)));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Api_KeepsTheApiCsp_UnknownWebFileIsNotFound()
    {
        await using var server = await VeilTestServer.StartAsync();

        using var api = await server.Client.GetAsync(new Uri("/api/v1/drops/AAAAAAAAAAAAAAAAAAAAAA", UriKind.Relative));
        using var missing = await server.Client.GetAsync(new Uri("/web/assets/nothing.js", UriKind.Relative));

        Assert.Equal("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            string.Join(";", api.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal(404, (int)missing.StatusCode);
    }

    /// <summary>spec/vectors/drop-v1.json and the Wycheproof Cobblestone-256 vectors through the TypeScript code (vitest).</summary>
    [Fact]
    public async Task TypeScript_DropAndCobblestoneVectors_Pass()
    {
        var web = Path.Combine(RepositoryRoot(), "web");
        var info = new ProcessStartInfo("npm", ["test", "--silent"])
        {
            WorkingDirectory = web,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["NO_COLOR"] = "1";
        info.Environment["CI"] = "true";

        using var npm = Process.Start(info)!;
        var stdout = npm.StandardOutput.ReadToEndAsync();
        var stderr = npm.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await npm.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;

        Assert.True(npm.ExitCode == 0, "npm test failed:\n" + output);
        Assert.Matches(@"Tests\s+\d+ passed", output);
        Assert.DoesNotContain("skipped", output, StringComparison.Ordinal);
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Veil.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Veil.slnx not found above " + AppContext.BaseDirectory);
    }
}
