using System.Security.Cryptography;
using Veil.Crypto.Drop;

namespace Veil.E2E.Tests;

/// <summary>What /d/{id} tells a person when a drop cannot be opened, and that nothing is saved then.</summary>
[Collection(BrowserTests.Name)]
public sealed class DropErrorPageTests(Browser browser) : IAsyncLifetime
{
    private DropWorld _world = null!;

    public async Task InitializeAsync() => _world = await DropWorld.StartAsync(browser);

    public async Task DisposeAsync() => await _world.DisposeAsync();

    [ChromiumFact]
    public async Task TamperedBlob_ShowsIntegrityError_AndHandsOverNoFile()
    {
        var file = _world.WriteRandomFile("contract.pdf", 200_000);
        var link = await _world.Cli.SendAsync(file);
        _world.TamperWithContent(link, offset: 150_000);
        var downloads = 0;
        _world.Page.Download += (_, _) => Interlocked.Increment(ref downloads);

        await _world.OpenAsync(link);
        await _world.Page.ClickAsync("#save");
        await _world.Page.WaitForSelectorAsync("#error:visible");
        await _world.Page.WaitForTimeoutAsync(500); // a download started after the error would show up here

        Assert.Contains("Integrity check failed", await _world.ErrorTextAsync(), StringComparison.Ordinal);
        Assert.Contains("Nothing was saved", await _world.ErrorTextAsync(), StringComparison.Ordinal);
        Assert.Equal(0, downloads);
        Assert.False(await _world.Page.IsVisibleAsync("#done"));
    }

    [ChromiumFact]
    public async Task WrongKey_IsExplained_BeforeAnyDownload()
    {
        var file = _world.WriteRandomFile("a.txt", 1000);
        var link = await _world.Cli.SendAsync(file);
        var parsed = DropLink.TryParse(link)!;
        var otherKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        await _world.OpenAsync($"{_world.Origin}/d/{parsed.Id}#{otherKey}");

        Assert.Contains("does not open this drop", await _world.ErrorTextAsync(), StringComparison.Ordinal);
        Assert.False(await _world.Page.IsVisibleAsync("#file"));
    }

    [ChromiumFact]
    public async Task LinkWithoutKey_SaysTheKeyIsMissing()
    {
        var link = await _world.Cli.SendAsync(_world.WriteRandomFile("a.txt", 10));

        await _world.OpenAsync(link[..link.IndexOf('#', StringComparison.Ordinal)]);

        Assert.Contains("has no key", await _world.ErrorTextAsync(), StringComparison.Ordinal);
    }

    [ChromiumFact]
    public async Task ExpiredDrop_IsExplained()
    {
        var link = await _world.Cli.SendAsync(_world.WriteRandomFile("a.txt", 10), "--expires", "5m");
        _world.Cli.Server.Time.Advance(TimeSpan.FromMinutes(6));

        await _world.OpenAsync(link);

        Assert.Contains("has expired", await _world.ErrorTextAsync(), StringComparison.Ordinal);
    }

    [ChromiumFact]
    public async Task UsedUpDrop_IsExplained()
    {
        var link = await _world.Cli.SendAsync(_world.WriteRandomFile("a.txt", 10), "--downloads", "1");
        var first = await _world.Cli.RunAsync(["drop", "get", link, "-o", _world.Cli.Downloads]);

        await _world.OpenAsync(link);

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("used up", await _world.ErrorTextAsync(), StringComparison.Ordinal);
    }

    [ChromiumFact]
    public async Task UnknownDrop_IsExplained()
    {
        await _world.OpenAsync($"{_world.Origin}/d/AAAAAAAAAAAAAAAAAAAAAA#{new string('A', 43)}");

        Assert.Contains("does not exist", await _world.ErrorTextAsync(), StringComparison.Ordinal);
    }
}
