using System.Security.Cryptography;

namespace Veil.E2E.Tests;

/// <summary>
/// /d/{id} where the browser offers File System Access: the plaintext streams into the chosen file and the file is
/// closed (made visible) only after the last chunk authenticated; on tampering the writable is aborted. The native
/// save dialog cannot be answered headless, so showSaveFilePicker is replaced by a recorder with the same shape.
/// </summary>
[Collection(BrowserTests.Name)]
public sealed class FileSystemAccessTests(Browser browser) : IAsyncLifetime
{
    internal const string RecordingPicker = """
        window.__saved = { name: null, parts: [], closed: false, aborted: false, removed: false, sha256: null };
        Object.defineProperty(window, 'showSaveFilePicker', { configurable: true, value: async (options) => {
          window.__saved.name = options.suggestedName;
          return {
            createWritable: async () => ({
              write: async (chunk) => { window.__saved.parts.push(new Uint8Array(chunk)); },
              close: async () => {
                const all = new Uint8Array(await new Blob(window.__saved.parts).arrayBuffer());
                const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
                window.__saved.sha256 = Array.from(digest, b => b.toString(16).padStart(2, '0')).join('');
                window.__saved.closed = true;
              },
              abort: async () => { window.__saved.aborted = true; },
            }),
            remove: async () => { window.__saved.removed = true; },
          };
        } });
        """;

    private DropWorld _world = null!;

    public async Task InitializeAsync()
    {
        _world = await DropWorld.StartAsync(browser, fileSystemAccess: true);
        await _world.Context.AddInitScriptAsync(RecordingPicker);
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    [ChromiumFact]
    public async Task Save_StreamsIntoTheChosenFile_ClosedOnlyAfterAuthentication_ByteIdentical()
    {
        var file = _world.WriteRandomFile("stream.bin", (2 * 1024 * 1024) + 5);
        var link = await _world.Cli.SendAsync(file);

        await _world.OpenAsync(link);
        await _world.Page.ClickAsync("#save");
        await _world.Page.WaitForSelectorAsync("#done:visible, #error:visible");
        var saved = await _world.Page.EvaluateAsync<SavedFile>("() => ({ name: window.__saved.name, closed: window.__saved.closed, aborted: window.__saved.aborted, sha256: window.__saved.sha256 })");

        Assert.Equal("stream.bin", saved.Name);
        Assert.True(saved.Closed);
        Assert.False(saved.Aborted);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file))), saved.Sha256);
        _world.AssertNoPageErrors();
    }

    [ChromiumFact]
    public async Task Save_TamperedBlob_AbortsTheFile_NeverClosesIt()
    {
        var file = _world.WriteRandomFile("stream.bin", 300_000);
        var link = await _world.Cli.SendAsync(file);
        _world.TamperWithContent(link, offset: 250_000);

        await _world.OpenAsync(link);
        await _world.Page.ClickAsync("#save");
        await _world.Page.WaitForSelectorAsync("#done:visible, #error:visible");
        var saved = await _world.Page.EvaluateAsync<SavedFile>("() => ({ name: window.__saved.name, closed: window.__saved.closed, aborted: window.__saved.aborted, sha256: window.__saved.sha256 })");

        Assert.Contains("Integrity check failed", await _world.ErrorTextAsync(), StringComparison.Ordinal);
        Assert.True(saved.Aborted);
        Assert.False(saved.Closed);
    }

    private sealed class SavedFile
    {
        public string? Name { get; set; }

        public bool Closed { get; set; }

        public bool Aborted { get; set; }

        public string? Sha256 { get; set; }
    }
}
