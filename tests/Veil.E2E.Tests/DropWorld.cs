using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Playwright;
using Veil.Cli.Tests.Drop;
using Veil.Server.Tests.Kit;

namespace Veil.E2E.Tests;

/// <summary>
/// One test's world: the real Veil server in process on loopback (manual clock, 1 MiB parts), `veil` as a child
/// process, and a fresh Chromium profile whose pages are loaded from http://127.0.0.1:PORT (a secure context, so
/// WebCrypto exists). Every console error and page error is recorded; tests assert there were none (a CSP
/// violation shows up there).
/// </summary>
internal sealed class DropWorld : IAsyncDisposable
{
    // Chromium offers File System Access (showSaveFilePicker), whose native dialog a headless test cannot answer;
    // hiding it makes the page take the path of browsers without it: a Blob download after full authentication,
    // which Playwright captures through its download event.
    internal const string WithoutFileSystemAccess =
        "Object.defineProperty(window, 'showSaveFilePicker', { value: undefined, configurable: true });";

    private readonly List<string> _pageErrors = [];
    private readonly List<string> _requests = [];

    private DropWorld(DropCli cli, IBrowserContext context, IPage page)
    {
        Cli = cli;
        Context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (_pageErrors)
                {
                    _pageErrors.Add("console: " + message.Text + " at " + message.Location);
                }
            }
        };
        context.Request += (_, request) =>
        {
            // Everything the browser sends: URL, headers and body (workers' requests included).
            var seen = request.Method + " " + request.Url + "\n" + string.Join("\n", request.Headers.Select(h => h.Key + ": " + h.Value)) + "\n" + request.PostData;
            lock (_requests)
            {
                _requests.Add(seen);
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_pageErrors)
            {
                _pageErrors.Add("page error: " + error);
            }
        };
    }

    public DropCli Cli { get; }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public string Origin => Cli.Origin;

    public static async Task<DropWorld> StartAsync(Browser browser, bool fileSystemAccess = false)
    {
        var cli = await DropCli.StartAsync();
        try
        {
            var context = await browser.NewContextAsync();
            if (!fileSystemAccess)
            {
                await context.AddInitScriptAsync(WithoutFileSystemAccess);
            }

            return new DropWorld(cli, context, await context.NewPageAsync());
        }
        catch
        {
            await cli.DisposeAsync();
            throw;
        }
    }

    public string WriteRandomFile(string name, int size) => Cli.WriteRandomFile(name, size);

    /// <summary>Opens a link in the page and waits until it is ready to download, asks for a password, or shows an error.</summary>
    public async Task OpenAsync(string link)
    {
        await Page.GotoAsync(link);
        await Page.WaitForSelectorAsync("#file:visible, #password-form:visible, #error:visible");
    }

    public async Task UnlockAsync(string password)
    {
        await Page.FillAsync("#password", password);
        await Page.ClickAsync("#unlock");
        await Page.WaitForSelectorAsync("#file:visible, #error:visible");
    }

    /// <summary>Clicks "Download and decrypt" and captures the file the page hands to the browser.</summary>
    public async Task<(string Name, byte[] Content)> SaveAsync()
    {
        var download = await Page.RunAndWaitForDownloadAsync(() => Page.ClickAsync("#save"));
        var path = Path.Combine(Cli.Root, "browser-" + Guid.NewGuid().ToString("N"));
        await download.SaveAsAsync(path);
        await Page.WaitForSelectorAsync("#done:visible");
        return (download.SuggestedFilename, await File.ReadAllBytesAsync(path));
    }

    /// <summary>Sends a file through /drop and returns the link the page shows.</summary>
    public async Task<string> SendInBrowserAsync(string path, string? password = null, int expiresInSeconds = 3600, int? downloads = 5, bool navigate = true)
    {
        if (navigate)
        {
            await Page.GotoAsync(Origin + "/drop");
        }

        await Page.SetInputFilesAsync("#file", path);
        await Page.SelectOptionAsync("#expires", expiresInSeconds.ToString(CultureInfo.InvariantCulture));
        await Page.SelectOptionAsync("#downloads", downloads?.ToString(CultureInfo.InvariantCulture) ?? "");
        if (password is not null)
        {
            await Page.CheckAsync("#use-password");
            await Page.FillAsync("#password", password);
        }

        await Page.ClickAsync("#send");
        await Page.WaitForSelectorAsync("#result:visible, #error:visible", new() { Timeout = 120_000 });
        Assert.False(await Page.IsVisibleAsync("#error"), "the page reported: " + await Page.TextContentAsync("#error"));
        return await Page.InputValueAsync("#link");
    }

    public Task<string?> ErrorTextAsync() => Page.TextContentAsync("#error");

    /// <summary>Flips one byte of the stored content ciphertext (past the header, inside a chunk).</summary>
    public void TamperWithContent(string link, long offset = 1000)
    {
        var id = Veil.Crypto.Drop.DropLink.TryParse(link)!.Id;
        var part = Cli.BlobFiles(id).First(f => new FileInfo(f).Length > offset);
        using var stream = File.Open(part, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        var b = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(b ^ 0x01));
    }

    public IReadOnlyList<string> PageErrors
    {
        get
        {
            lock (_pageErrors)
            {
                return [.. _pageErrors];
            }
        }
    }

    /// <summary>The secret appeared in no request the browser made (the fragment key must never leave it).</summary>
    public void AssertNeverSent(string secret)
    {
        lock (_requests)
        {
            Assert.NotEmpty(_requests);
            Assert.DoesNotContain(_requests, r => r.Contains(secret, StringComparison.Ordinal));
        }
    }

    /// <summary>No console error and no uncaught page error (a CSP violation, a failed request, a script error).</summary>
    public void AssertNoPageErrors()
    {
        var errors = PageErrors;
        Assert.True(errors.Count == 0, "the page logged errors:\n" + string.Join("\n", errors));
    }

    public async ValueTask DisposeAsync()
    {
        await Context.DisposeAsync();
        await Cli.DisposeAsync();
    }

    public static byte[] RandomBytes(int size) => RandomNumberGenerator.GetBytes(size);
}
