using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Veil.Cli.Tests;

namespace Veil.E2E.Tests;

/// <summary>
/// The owner's Vault in Chromium, beyond items (issue 16 point 6): files encrypted with Cobblestone-256 in the vault
/// worker and uploaded, read byte-identical by the real `veil` command and the other way round; item editing; copy
/// of a masked value; and Bitwarden's unencrypted JSON in and out (spec/vectors/bitwarden-unencrypted.json).
/// </summary>
public sealed partial class VaultClaimBrowserTests
{
    private const string FileCanary = "VEIL-FILE-CANARY-3c9e1d";

    [ChromiumFact]
    public async Task OwnerInChromium_AttachesAFile_TheCliSavesItByteIdentical_ACliFileDownloadsInThePage_EditAndCopyWork()
    {
        var cli = new VeilCli(_server.BaseAddress, Path.Combine(_root, "owner"));
        await RegisterAndLoginAsync(cli);
        Ok(await OwnerAsync(cli, ["vault", "create", "Family"]));
        var fromCli = RandomNumberGenerator.GetBytes(50_000);
        var cliPath = Path.Combine(_root, "deed.pdf");
        await File.WriteAllBytesAsync(cliPath, fromCli);
        Ok(await OwnerAsync(cli, ["vault", "item", "add", "Family", "--title", "Deeds", "--file", cliPath]));

        // No File System Access here: the download takes the in-memory fallback, handed over once authenticated.
        await _page.AddInitScriptAsync(DropWorld.WithoutFileSystemAccess);
        await _context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = Local("/").TrimEnd('/') });
        var workers = RecordWorkers();
        await SignInAndOpenAsync("Family");
        await _page.GetByRole(AriaRole.Heading, new() { Name = "Deeds" }).WaitForAsync();
        AssertVaultWorkerRan(workers);

        var download = await _page.RunAndWaitForDownloadAsync(() => _page.GetByRole(AriaRole.Button, new() { Name = "Download deed.pdf" }).ClickAsync());
        var savedCli = Path.Combine(_root, "from-cli.bin");
        await download.SaveAsAsync(savedCli);
        Assert.Equal("deed.pdf", download.SuggestedFilename);
        Assert.Equal(fromCli, await File.ReadAllBytesAsync(savedCli));

        // A file of 1.5 MiB + 5 bytes (two worker slices, a short final chunk) with a canary in it, attached in the page.
        var content = new byte[(3 * 512 * 1024) + 5];
        RandomNumberGenerator.Fill(content);
        Encoding.ASCII.GetBytes(FileCanary).CopyTo(content, 0);
        Encoding.ASCII.GetBytes(FileCanary).CopyTo(content, 1_000_000);
        var scanPath = Path.Combine(_root, "scan-canary.bin");
        await File.WriteAllBytesAsync(scanPath, content);
        await _page.EvaluateAsync("""
            () => { window.__maxGap = 0; let last = performance.now();
                    setInterval(() => { const now = performance.now(); window.__maxGap = Math.max(window.__maxGap, now - last); last = now; }, 10); }
            """);
        await _page.GetByLabel("Title", new() { Exact = true }).FillAsync("Scans");
        await _page.GetByLabel("Field 1 name", new() { Exact = true }).FillAsync("pin");
        await _page.GetByLabel("Field 1 value", new() { Exact = true }).FillAsync("pin-canary-5521");
        await _page.GetByLabel("Attach files", new() { Exact = true }).SetInputFilesAsync(scanPath);
        var upload = await _page.RunAndWaitForResponseAsync(
            () => _page.GetByRole(AriaRole.Button, new() { Name = "Save item" }).ClickAsync(),
            r => r.Request.Method == "PUT" && r.Url.Contains("/files/", StringComparison.Ordinal));
        Assert.Equal(201, upload.Status);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Download scan-canary.bin" }).WaitForAsync();
        var maxGap = await _page.EvaluateAsync<double>("() => window.__maxGap");
        Assert.True(maxGap < 500, $"the page's event loop stalled for {maxGap:F0} ms while a file was encrypted and uploaded");
        await AssertAccessibleAsync();
        await ScreenshotAsync("vault-owner-file");

        // The CLI decrypts the page's upload to the same bytes; the page downloads it back the same.
        var cliDir = Path.Combine(_root, "cli-files");
        Ok(await OwnerAsync(cli, ["vault", "item", "show", "Family", "Scans", "--save-files", cliDir]));
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(cliDir, "scan-canary.bin")));
        download = await _page.RunAndWaitForDownloadAsync(() => _page.GetByRole(AriaRole.Button, new() { Name = "Download scan-canary.bin" }).ClickAsync());
        var savedPage = Path.Combine(_root, "from-page.bin");
        await download.SaveAsAsync(savedPage);
        Assert.Equal(content, await File.ReadAllBytesAsync(savedPage));

        // Copy takes a masked value to the clipboard without showing it.
        await _page.GetByRole(AriaRole.Button, new() { Name = "Copy pin" }).ClickAsync();
        await _page.GetByText("Copied.").WaitForAsync();
        Assert.Equal("pin-canary-5521", await _page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        Assert.DoesNotContain("pin-canary-5521", await _page.InnerTextAsync("main"), StringComparison.Ordinal);

        // Edit the item: title, a changed field (shown on request), a new field, notes, tags and a file removed;
        // the CLI reads the new revision.
        await _page.GetByRole(AriaRole.Button, new() { Name = "Edit Scans" }).ClickAsync();
        var form = _page.GetByRole(AriaRole.Form, new() { Name = "Edit Scans" });
        await form.GetByLabel("Edit: Title").FillAsync("Scans 2026");
        var pinBox = form.GetByLabel("Edit: Field 1 value");
        Assert.Equal("password", await pinBox.GetAttributeAsync("type"));
        await form.GetByLabel("Edit: Show the values while I edit").CheckAsync();
        Assert.Equal("text", await pinBox.GetAttributeAsync("type"));
        Assert.Equal("pin-canary-5521", await pinBox.InputValueAsync());
        await form.GetByLabel("Keep scan-canary.bin").UncheckAsync();
        await form.GetByLabel("Edit: Field 1 value").FillAsync("pin-canary-9876");
        await form.GetByRole(AriaRole.Button, new() { Name = "Add a field" }).ClickAsync();
        await form.GetByLabel("Edit: Field 2 name").FillAsync("puk");
        await form.GetByLabel("Edit: Field 2 value").FillAsync("puk-canary-0042");
        await form.GetByLabel("Edit: Notes").FillAsync("Originals in the safe");
        await form.GetByLabel("Edit: Tags, separated by commas").FillAsync("papers, home");
        await AssertAccessibleAsync();
        await ScreenshotAsync("vault-owner-edit");
        await form.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await _page.GetByRole(AriaRole.Heading, new() { Name = "Scans 2026" }).WaitForAsync();
        var shown = Ok(await OwnerAsync(cli, ["vault", "item", "show", "Family", "Scans 2026"])).Event("item").GetProperty("item");
        Assert.Equal(2, shown.GetProperty("revision").GetInt32());
        Assert.Equal(["pin=pin-canary-9876", "puk=puk-canary-0042"], shown.GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("label").GetString() + "=" + f.GetProperty("value").GetString()));
        Assert.Equal("Originals in the safe", shown.GetProperty("notes").GetString());
        Assert.Equal(["papers", "home"], shown.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Empty(shown.GetProperty("files").EnumerateArray()); // removed in the edit
        Assert.Equal(0, await _page.GetByRole(AriaRole.Button, new() { Name = "Download scan-canary.bin" }).CountAsync());

        // A blob changed on the server: the worker's decryption refuses it and nothing is offered for saving.
        var blob = Directory.EnumerateFiles(Path.Combine(_server.DataDirectory, "blobs", "vault"), "*", SearchOption.AllDirectories)
            .Single(f => new FileInfo(f).Length == 24 + 32 + 50_000 + (16 * ((50_000 / 16384) + 1)));
        var bytes = await File.ReadAllBytesAsync(blob);
        bytes[30_000] ^= 1;
        await File.WriteAllBytesAsync(blob, bytes);
        var downloads = 0;
        _page.Download += (_, _) => downloads++;
        await _page.GetByRole(AriaRole.Button, new() { Name = "Download deed.pdf" }).ClickAsync();
        await _page.GetByText("This file did not decrypt: it was changed or damaged on the server. Nothing was saved.").WaitForAsync();
        Assert.Equal(0, downloads);

        AssertNeverSent(FileCanary);
        AssertNeverSent("scan-canary.bin");
        AssertNeverSent("pin-canary");
        AssertNeverSent("puk-canary");
        AssertNeverSent("Originals in the safe");
        AssertNeverSent(Password);
        AssertNoPageErrors();
    }

    [ChromiumFact]
    public async Task OwnerInChromium_AVaultOfMoreThanAPage_Draws100Cards_ShowMoreDrawsTheRest_SearchCoversEveryItem()
    {
        var cli = new VeilCli(_server.BaseAddress, Path.Combine(_root, "owner"));
        await RegisterAndLoginAsync(cli);
        Ok(await OwnerAsync(cli, ["vault", "create", "Family"]));
        var items = new JsonArray();
        for (int i = 1; i <= 130; i++)
        {
            items.Add(new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(), ["type"] = 2, ["name"] = $"Note {i:D3}", ["notes"] = $"body {i}",
                ["folderId"] = null, ["favorite"] = false, ["secureNote"] = new JsonObject { ["type"] = 0 },
            });
        }

        var path = Path.Combine(_root, "many.json");
        await File.WriteAllTextAsync(path, new JsonObject { ["encrypted"] = false, ["folders"] = new JsonArray(), ["items"] = items }.ToJsonString());
        await SignInAndOpenAsync("Family");
        await _page.GetByLabel("Bitwarden export (.json, unencrypted)").SetInputFilesAsync(path);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Import into this vault" }).ClickAsync();
        await _page.GetByText("130 items", new() { Exact = true }).WaitForAsync(new() { Timeout = 120_000 });

        // The list draws a page of 100 cards; the count and the search cover all 130.
        Assert.Equal(100, await _page.Locator(".vault-item").CountAsync());
        var more = _page.GetByRole(AriaRole.Button, new() { Name = "Show 30 more (30 not shown)" });
        var drawn = await _page.Locator(".vault-item").EvaluateAllAsync<string[]>("cards => cards.map(c => c.getAttribute('aria-label'))");
        var notDrawn = Enumerable.Range(1, 130).Select(i => $"Note {i:D3}").Except(drawn).ToList();
        Assert.Equal(30, notDrawn.Count);
        await _page.GetByLabel("Search this vault").FillAsync(notDrawn[0]);
        await _page.GetByText("1 of 130 items match").WaitForAsync();
        await _page.GetByRole(AriaRole.Heading, new() { Name = notDrawn[0] }).WaitForAsync();
        await _page.GetByLabel("Search this vault").FillAsync("");
        await more.ClickAsync();
        await _page.GetByRole(AriaRole.Heading, new() { Name = notDrawn[^1] }).WaitForAsync();
        Assert.Equal(130, await _page.Locator(".vault-item").CountAsync());
        Assert.Equal(0, await more.CountAsync());
        await AssertAccessibleAsync();
    }

    [ChromiumFact]
    public async Task OwnerInChromium_ImportsABitwardenExport_TheCliReadsIt_ExportGivesTheSameItems_AMalformedFileImportsNothing()
    {
        var cli = new VeilCli(_server.BaseAddress, Path.Combine(_root, "owner"));
        await RegisterAndLoginAsync(cli);
        Ok(await OwnerAsync(cli, ["vault", "create", "Family"]));
        var fixture = BitwardenFixture();

        await SignInAndOpenAsync("Family");
        await _page.GetByText("0 items", new() { Exact = true }).WaitForAsync();

        // A malformed file (the last item is a login without its login) imports nothing, and says why in a sentence.
        var broken = JsonNode.Parse(await File.ReadAllTextAsync(fixture))!;
        broken["items"]!.AsArray().Last()!.AsObject()["type"] = 1;
        var brokenPath = Path.Combine(_root, "broken.json");
        await File.WriteAllTextAsync(brokenPath, broken.ToJsonString());
        var importBox = _page.GetByLabel("Bitwarden export (.json, unencrypted)");
        await importBox.SetInputFilesAsync(brokenPath);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Import into this vault" }).ClickAsync();
        await _page.GetByText("Nothing was imported. Item 5 (“Me”) is a login without login details.").WaitForAsync();
        Assert.Equal(0, Ok(await OwnerAsync(cli, ["vault", "item", "list", "Family"])).Event("items").GetProperty("items").GetArrayLength());

        await importBox.SetInputFilesAsync(fixture);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Import into this vault" }).ClickAsync();
        await _page.GetByText("Imported 5 items.").WaitForAsync();
        await _page.GetByText("5 items", new() { Exact = true }).WaitForAsync();
        var bank = Ok(await OwnerAsync(cli, ["vault", "item", "show", "Family", "Example Bank"])).Event("item").GetProperty("item");
        var fields = bank.GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("label").GetString() + "=" + f.GetProperty("value").GetString()).ToList();
        Assert.Contains("login.password=bw-canary-password-9f2c", fields);
        Assert.Contains("PIN (hidden)=bw-canary-pin-4711", fields);
        Assert.Contains("login.uri=androidapp://com.example.bank", fields);
        Assert.Equal(["Banking"], bank.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        // Export waits for the typed confirmation, then writes the same items.
        var export = _page.GetByRole(AriaRole.Button, new() { Name = "Export 5 items unencrypted" });
        Assert.True(await export.IsDisabledAsync());
        await _page.GetByLabel("Type “export unencrypted” to confirm").FillAsync("export unencrypted");
        await AssertAccessibleAsync();
        await ScreenshotAsync("vault-bitwarden");
        var download = await _page.RunAndWaitForDownloadAsync(() => export.ClickAsync());
        var exported = Path.Combine(_root, "export.json");
        await download.SaveAsAsync(exported);
        Assert.Equal(Comparable(await File.ReadAllTextAsync(fixture)), Comparable(await File.ReadAllTextAsync(exported)));

        AssertNeverSent("bw-canary-password-9f2c");
        AssertNeverSent("bw-canary-pin-4711");
        AssertNeverSent("4111111111111111");
        AssertNeverSent("Example Bank");
        AssertNoPageErrors();
    }

    /// <summary>The URLs of the Web Workers the page starts from now on.</summary>
    private List<string> RecordWorkers()
    {
        var urls = new List<string>();
        _page.Worker += (_, worker) =>
        {
            lock (urls)
            {
                urls.Add(worker.Url);
            }
        };
        return urls;
    }

    /// <summary>The items were opened in the vault worker (web/src/vault/vault.worker.ts), not on the page's thread.</summary>
    private static void AssertVaultWorkerRan(List<string> workers)
    {
        lock (workers)
        {
            Assert.Contains(workers, url => url.Contains("/web/assets/vault.worker", StringComparison.Ordinal));
        }
    }

    private async Task SignInAndOpenAsync(string vault)
    {
        await _page.GotoAsync(Local("/signin"));
        await _page.GetByLabel("Email address").FillAsync(Owner);
        await _page.GetByLabel("Master password").FillAsync(Password);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await _page.WaitForURLAsync("**/app");
        await _page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = "Vault" }).ClickAsync();
        await _page.GetByRole(AriaRole.Link, new() { Name = vault }).ClickAsync();
    }

    private static string BitwardenFixture()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "spec", "vectors", "bitwarden-unencrypted.json");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException("spec/vectors/bitwarden-unencrypted.json not found");
    }

    /// <summary>An export's items without ids (folder ids are new on export), folders by name, sorted by name, as one canonical string.</summary>
    private static string Comparable(string json)
    {
        var root = JsonNode.Parse(json)!.AsObject();
        var folders = root["folders"]!.AsArray().ToDictionary(f => f!["id"]!.GetValue<string>(), f => f!["name"]!.GetValue<string>());
        var items = new JsonArray();
        // By name: the test server's clock stands still, so items created in one instant list in no fixed order.
        foreach (var item in root["items"]!.AsArray().OrderBy(i => i!["name"]!.GetValue<string>(), StringComparer.Ordinal))
        {
            var copy = new JsonObject();
            foreach (var key in new[] { "type", "name", "notes", "fields", "login", "secureNote", "card", "identity" })
            {
                copy[key] = item![key]?.DeepClone();
            }

            copy["folder"] = item!["folderId"] is { } id ? folders[id.GetValue<string>()] : null;
            items.Add(copy);
        }

        return Canonical(items);
    }

    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonSerializer.Serialize(p.Key) + ":" + Canonical(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };
}
