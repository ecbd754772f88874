using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Veil.Client.Vault;
using Veil.Server.Tests.Kit;

namespace Veil.Client.Tests.Vault;

/// <summary>The Vault SDK against the real server on loopback.</summary>
public sealed partial class VaultClientTests : IAsyncLifetime
{
    private const string Email = "vera@example.org";
    private static readonly ReadOnlyMemory<char> Password = "correct horse battery staple".AsMemory();

    private readonly string _scratch = Directory.CreateTempSubdirectory("veil-vault-sdk-").FullName;
    private VeilTestServer _server = null!;

    public async Task InitializeAsync() => _server = await VeilTestServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_scratch, recursive: true);
    }

    [Fact]
    public async Task File_UploadThenDownload_IsByteIdentical_AndATamperedBlobLeavesNothing()
    {
        using var client = await SignedInAsync();
        using var vaults = VaultClient.ForSignedIn(client);
        VaultInfo vault = await vaults.CreateVaultAsync("Papers");
        VaultItem item = await vaults.AddItemAsync(vault.Id, new VaultItemDraft("Deeds", null, [], []));
        byte[] content = RandomNumberGenerator.GetBytes(50_000);
        string source = Path.Combine(_scratch, "deed.bin");
        await File.WriteAllBytesAsync(source, content);
        var reports = new List<VaultTransferProgress>();

        VaultFile file = await vaults.AddFileAsync(vault.Id, item.Id, source, progress: new SyncProgress(reports.Add));
        string good = Path.Combine(_scratch, "good.bin");
        await vaults.DownloadFileAsync(vault.Id, item.Id, file, good);

        Assert.Equal(content, await File.ReadAllBytesAsync(good));
        Assert.Equal(file.Size, reports[^1].Done);
        Assert.Equal("deed.bin", (await vaults.GetItemAsync(vault.Id, item.Id)).Files.Single().Name);

        // One flipped byte in the stored blob: the download fails as tampered and writes nothing.
        string blob = Directory.EnumerateFiles(_server.DataDirectory, "*", SearchOption.AllDirectories)
            .Single(path => new FileInfo(path).Length == file.Size);
        byte[] bytes = await File.ReadAllBytesAsync(blob);
        bytes[30_000] ^= 0x40;
        await File.WriteAllBytesAsync(blob, bytes);
        string bad = Path.Combine(_scratch, "out", "bad.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(bad)!);

        var error = await Assert.ThrowsAsync<VaultException>(() => vaults.DownloadFileAsync(vault.Id, item.Id, file, bad));

        Assert.Equal(VaultException.TamperedCode, error.Code);
        Assert.Empty(Directory.GetFileSystemEntries(Path.GetDirectoryName(bad)!));
    }

    [Fact]
    public async Task PasswordChange_RewrapsOnlyTheUserKey_VaultsStillOpen()
    {
        using (var client = await SignedInAsync())
        using (var vaults = VaultClient.ForSignedIn(client))
        {
            VaultInfo vault = await vaults.CreateVaultAsync("Kept");
            await vaults.AddItemAsync(vault.Id, new VaultItemDraft("Alarm", "code below", ["home"], [new VaultField("code", "4711")]));
            await client.Identity.ChangePasswordAsync(Password, "a new and longer passphrase".AsMemory());
        }

        using var again = NewClient();
        await again.Identity.LoginAsync(Email, "a new and longer passphrase".AsMemory());
        using var reopened = VaultClient.ForSignedIn(again);
        VaultInfo listed = Assert.Single(await reopened.ListVaultsAsync());
        VaultItem item = Assert.Single(await reopened.ListItemsAsync(listed.Id));

        Assert.Equal("Kept", listed.Name);
        Assert.Equal(new VaultField("code", "4711"), Assert.Single(item.Fields));
        Assert.Equal(["home"], item.Tags);
        Assert.Equal("code below", item.Notes);
    }

    [Fact]
    public async Task Update_StaleRevision_IsARevisionConflict()
    {
        using var client = await SignedInAsync();
        using var vaults = VaultClient.ForSignedIn(client);
        VaultInfo vault = await vaults.CreateVaultAsync("Edits");
        VaultItem item = await vaults.AddItemAsync(vault.Id, new VaultItemDraft("v1", null, [], []));
        VaultItem second = await vaults.UpdateItemAsync(vault.Id, item.Id, new VaultItemDraft("v2", null, [], []), item.Revision);

        var error = await Assert.ThrowsAsync<VeilApiException>(() => vaults.UpdateItemAsync(vault.Id, item.Id, new VaultItemDraft("v3", null, [], []), item.Revision));

        Assert.Equal("revision-conflict", error.Code);
        Assert.Equal("v2", (await vaults.GetItemAsync(vault.Id, item.Id)).Title);
        Assert.Equal(item.Revision + 1, second.Revision);
    }

    [Fact]
    public async Task Lock_TheClientRefusesToOpenAnything()
    {
        using var client = await SignedInAsync();
        var vaults = VaultClient.ForSignedIn(client);
        await vaults.CreateVaultAsync("Locked");

        vaults.Lock();

        await Assert.ThrowsAsync<VaultLockedException>(() => vaults.ListVaultsAsync());
        await Assert.ThrowsAsync<VaultLockedException>(() => vaults.CreateVaultAsync("another"));
    }

    private VeilClient NewClient() => new(_server.BaseAddress, new VeilClientOptions { TimeProvider = _server.Time, ClientLabel = "vault-sdk-tests" });

    private async Task<VeilClient> SignedInAsync()
    {
        using (var registering = NewClient())
        {
            await registering.Identity.RegisterAsync(Email, Password);
            var mail = _server.ReadOutbox().Last(m => m.TextBody.Contains("/verify-email#", StringComparison.Ordinal));
            await registering.Identity.VerifyEmailAsync(LinkPattern().Matches(mail.TextBody).Select(m => m.Value).Last(l => l.Contains("/verify-email#", StringComparison.Ordinal)));
        }

        var client = NewClient();
        await client.Identity.LoginAsync(Email, Password);
        Assert.NotNull(client.Identity.UserKey);
        return client;
    }

    private sealed class SyncProgress(Action<VaultTransferProgress> report) : IProgress<VaultTransferProgress>
    {
        public void Report(VaultTransferProgress value) => report(value);
    }

    [GeneratedRegex(@"https?://[^\s""<>]+")]
    private static partial Regex LinkPattern();
}
