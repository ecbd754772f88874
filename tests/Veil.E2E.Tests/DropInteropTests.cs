using Veil.Cli.Tests.Drop;

namespace Veil.E2E.Tests;

/// <summary>
/// The browser pages and the `veil` command open each other's drops, byte for byte, through the real server.
/// 1 MiB parts, so the larger files travel in several parts and many 16 KiB chunks.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class DropInteropTests(Browser browser) : IAsyncLifetime
{
    private DropWorld _world = null!;

    public async Task InitializeAsync() => _world = await DropWorld.StartAsync(browser);

    public async Task DisposeAsync() => await _world.DisposeAsync();

    [ChromiumFact]
    public async Task CliSend_OpensInChromium_SavesByteIdenticalUnderItsName()
    {
        var file = _world.WriteRandomFile("Bericht März 2030.pdf", (5 * 1024 * 1024 / 2) + 123);
        var link = await _world.Cli.SendAsync(file);

        await _world.OpenAsync(link);
        var shownName = await _world.Page.TextContentAsync("#name");
        var shownSize = await _world.Page.TextContentAsync("#size");
        var (name, content) = await _world.SaveAsync();

        Assert.Equal("Bericht März 2030.pdf", shownName);
        Assert.Contains("2,621,563 bytes", shownSize, StringComparison.Ordinal);
        Assert.Equal("Bericht März 2030.pdf", name);
        Assert.Equal(await File.ReadAllBytesAsync(file), content);
        _world.AssertNeverSent(link[(link.IndexOf('#', StringComparison.Ordinal) + 1)..]);
        _world.AssertNeverSent("Bericht");
        _world.AssertNoPageErrors();
    }

    [ChromiumFact]
    public async Task ChromiumSend_GetByCli_IsByteIdenticalUnderItsName()
    {
        var file = _world.WriteRandomFile("photo ☂.jpg", (3 * 1024 * 1024) + 7);

        var link = await _world.SendInBrowserAsync(file, downloads: 1);
        var got = await _world.Cli.RunAsync(["drop", "get", link, "-o", _world.Cli.Downloads]);

        Assert.Matches(@"^http://127\.0\.0\.1:\d+/d/[A-Za-z0-9_-]{22}#[A-Za-z0-9_-]{43}$", link);
        Assert.True(got.ExitCode == 0, got.ToString());
        Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(Path.Combine(_world.Cli.Downloads, "photo ☂.jpg")));
        _world.AssertNeverSent(link[(link.IndexOf('#', StringComparison.Ordinal) + 1)..]);
        _world.AssertNeverSent("photo");
        _world.AssertNoPageErrors();
    }

    [ChromiumTheory]
    [InlineData(0)]
    [InlineData(16384)]
    [InlineData(16385)]
    public async Task ChromiumSend_ChunkBoundarySizes_GetByCli_IsByteIdentical(int size)
    {
        var file = _world.WriteRandomFile($"edge-{size}.bin", size);

        var link = await _world.SendInBrowserAsync(file);
        var got = await _world.Cli.RunAsync(["drop", "get", link, "-o", _world.Cli.Downloads]);

        Assert.True(got.ExitCode == 0, got.ToString());
        Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(Path.Combine(_world.Cli.Downloads, $"edge-{size}.bin")));
    }

    [ChromiumFact]
    public async Task CliPasswordDrop_WrongPasswordIsNamed_RightPasswordSavesByteIdentical()
    {
        const string password = "pässwörd ☂ é";
        var file = _world.WriteRandomFile("secret.txt", 40_000);
        var sent = await _world.Cli.RunAsync(["drop", "send", file, "--password-stdin"], password + "\n");
        Assert.True(sent.ExitCode == 0, sent.ToString());

        await _world.OpenAsync(sent.LastLine);
        var asked = await _world.Page.IsVisibleAsync("#password-form");
        await _world.UnlockAsync("pässwörd ☂ e");
        var wrong = await _world.ErrorTextAsync();
        await _world.UnlockAsync(password);
        var (name, content) = await _world.SaveAsync();

        Assert.DoesNotContain('#', sent.LastLine);
        Assert.True(asked);
        Assert.Contains("Wrong password", wrong, StringComparison.Ordinal);
        Assert.Equal("secret.txt", name);
        Assert.Equal(await File.ReadAllBytesAsync(file), content);
        _world.AssertNoPageErrors();
    }

    [ChromiumFact]
    public async Task ChromiumPasswordDrop_LinkHasNoKey_CliOpensItWithThePassword()
    {
        const string password = "correct horse battery staple";
        var file = _world.WriteRandomFile("plans.zip", 70_000);

        var link = await _world.SendInBrowserAsync(file, password);
        var wrong = await _world.Cli.RunAsync(["drop", "get", link, "-o", _world.Cli.Downloads, "--password-stdin"], "incorrect horse\n");
        var right = await _world.Cli.RunAsync(["drop", "get", link, "-o", _world.Cli.Downloads, "--password-stdin"], password + "\n");

        Assert.DoesNotContain('#', link);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("wrong password", wrong.Stderr, StringComparison.Ordinal);
        Assert.True(right.ExitCode == 0, right.ToString());
        Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(Path.Combine(_world.Cli.Downloads, "plans.zip")));
        _world.AssertNoPageErrors();
    }

    [ChromiumFact]
    public async Task ChromiumSend_WithPassword_PageStaysResponsive_WhileTheWorkerDerivesAndEncrypts()
    {
        var file = _world.WriteRandomFile("big.bin", 8 * 1024 * 1024);
        await _world.Page.GotoAsync(_world.Origin + "/drop");
        // The longest pause of the page's event loop while it sends: Argon2id (64 MiB, ~1 s) or encrypting 8 MiB on
        // the page's own thread would stall it for far longer than this bound.
        await _world.Page.EvaluateAsync("""
            () => { window.__maxGap = 0; let last = performance.now();
                    setInterval(() => { const now = performance.now(); window.__maxGap = Math.max(window.__maxGap, now - last); last = now; }, 10); }
            """);

        var link = await _world.SendInBrowserAsync(file, "a password", navigate: false);
        var maxGap = await _world.Page.EvaluateAsync<double>("() => window.__maxGap");

        Assert.DoesNotContain('#', link);
        Assert.True(maxGap < 500, $"the page's event loop stalled for {maxGap:F0} ms while sending");
    }
}
