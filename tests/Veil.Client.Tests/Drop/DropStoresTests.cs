using System.Runtime.Versioning;
using Veil.Client.Drop;

namespace Veil.Client.Tests.Drop;

[UnsupportedOSPlatform("windows")]
public sealed class DropStoresTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("veil-stores-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task OwnerTokens_AreSavedOwnerOnly_FoundAndRemoved()
    {
        var store = new DropOwnerTokenStore(Path.Combine(_root, "config", "veil"));
        await store.SaveAsync(new OwnedDrop("AAAAAAAAAAAAAAAAAAAAAA", "http://127.0.0.1:1", "token-1", DateTimeOffset.UnixEpoch));
        await store.SaveAsync(new OwnedDrop("BBBBBBBBBBBBBBBBBBBBBB", "http://127.0.0.1:1", "token-2", DateTimeOffset.UnixEpoch));

        OwnedDrop? found = await store.FindAsync("BBBBBBBBBBBBBBBBBBBBBB");
        await store.RemoveAsync("AAAAAAAAAAAAAAAAAAAAAA");

        Assert.Equal("token-2", found?.OwnerToken);
        Assert.Null(await store.FindAsync("AAAAAAAAAAAAAAAAAAAAAA"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.FilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(store.FilePath)!));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(store.FilePath)!));
    }

    [Fact]
    public async Task ResumeState_RoundTrips_IsOwnerOnly_AndIsKeyedByFileIdentity()
    {
        var store = new DropResumeStore(Path.Combine(_root, "cache"));
        var state = new DropUploadState
        {
            Origin = "http://127.0.0.1:1", FilePath = "/tmp/x.bin", FileSize = 10, FileModifiedTicks = 42, Id = "AAAAAAAAAAAAAAAAAAAAAA",
            OwnerToken = "t", DropKey = "k", ContentSalt = "s", PartSize = 1024, PartCount = 1, IsPasswordDrop = false,
            PartHashes = { [0] = "00" },
        };

        await store.SaveAsync(state);
        DropUploadState? loaded = await store.LoadAsync("http://127.0.0.1:1", "/tmp/x.bin", 10, 42);
        DropUploadState? changed = await store.LoadAsync("http://127.0.0.1:1", "/tmp/x.bin", 10, 43);

        Assert.Equal("00", loaded?.PartHashes[0]);
        Assert.Null(changed);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Directory.GetFiles(store.Directory).Single()));
        store.Delete(state);
        Assert.Empty(Directory.GetFiles(store.Directory));
    }

    [Fact]
    public void MediaTypes_GuessFromExtension_DefaultOctetStream()
    {
        Assert.Equal("application/pdf", MediaTypes.Guess("A.PDF"));
        Assert.Equal("application/octet-stream", MediaTypes.Guess("noextension"));
    }
}
