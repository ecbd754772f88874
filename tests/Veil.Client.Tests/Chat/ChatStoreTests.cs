// The chat client's encrypted store on a real file system: what another user key, an edited file or a record moved
// to another name gets (a clear refusal, nothing rewritten), and what the file shows (no plaintext, no names, 0600).
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Veil.Client.Chat;
using Veil.Crypto.Memory;

namespace Veil.Client.Tests.Chat;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes
public sealed class ChatStoreTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("veil-chat-store-").FullName;
    private readonly Guid _account = Guid.NewGuid();
    private readonly SecretBytes _userKey = SecretBytes.Random(32);

    public void Dispose()
    {
        _userKey.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private string Path => ChatStore.PathFor(_directory, _account);

    [Fact]
    public void Save_ThenOpen_ReadsEveryRecord_AndTheFileIs0600WithNoPlaintextOrName()
    {
        const string canary = "CANARY-chat-store-3f1c";
        using (var store = ChatStore.Open(Path, _account, _userKey))
        {
            Assert.False(store.Existed);
            store.Write("history/bob", Encoding.UTF8.GetBytes(canary));
            store.Save();
        }

        using (var reopened = ChatStore.Open(Path, _account, _userKey))
        {
            Assert.True(reopened.Existed);
            Assert.Equal(canary, Encoding.UTF8.GetString(reopened.Read("history/bob")!));
            Assert.Null(reopened.Read("history/carol"));
        }

        var text = File.ReadAllText(Path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path));
        Assert.DoesNotContain(canary, text, StringComparison.Ordinal);
        Assert.DoesNotContain("history", text, StringComparison.Ordinal);
        Assert.DoesNotContain("bob", text, StringComparison.Ordinal);
        Assert.Equal(1, JsonNode.Parse(text)!["version"]!.GetValue<int>());
    }

    [Fact]
    public void Open_WithAnotherUserKey_IsRefused_AndTheFileIsUnchanged()
    {
        Seed("device", "keys");
        var before = File.ReadAllBytes(Path);
        using var other = SecretBytes.Random(32);

        var refused = Assert.Throws<ChatStoreException>(() => ChatStore.Open(Path, _account, other));

        Assert.Contains("does not open", refused.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Path));
    }

    [Fact]
    public void Open_AsAnotherAccount_IsRefused()
    {
        Seed("device", "keys");
        File.Copy(Path, ChatStore.PathFor(_directory, Guid.Empty));

        Assert.Throws<ChatStoreException>(() => ChatStore.Open(ChatStore.PathFor(_directory, Guid.Empty), Guid.Empty, _userKey));
    }

    [Fact]
    public void Read_OfARecordMovedUnderAnotherName_OrWithAFlippedBit_IsRefused()
    {
        Seed("history/bob", "from bob", "history/carol", "from carol");
        var file = JsonNode.Parse(File.ReadAllText(Path))!;
        var records = file["records"]!.AsObject();
        var tags = records.Select(r => r.Key).ToList();
        var first = records[tags[0]]!.GetValue<string>();
        records[tags[0]] = records[tags[1]]!.GetValue<string>();
        records[tags[1]] = first;
        File.WriteAllText(Path, file.ToJsonString());

        using (var swapped = ChatStore.Open(Path, _account, _userKey))
        {
            Assert.Throws<ChatStoreException>(() => swapped.Read("history/bob"));
            Assert.Throws<ChatStoreException>(() => swapped.Read("history/carol"));
        }

        Seed("device", "keys");
        file = JsonNode.Parse(File.ReadAllText(Path))!;
        var record = file["records"]!.AsObject().Single();
        var bytes = System.Buffers.Text.Base64Url.DecodeFromChars(record.Value!.GetValue<string>());
        bytes[^1] ^= 1;
        file["records"]![record.Key] = System.Buffers.Text.Base64Url.EncodeToString(bytes);
        File.WriteAllText(Path, file.ToJsonString());

        using var flipped = ChatStore.Open(Path, _account, _userKey);
        Assert.Throws<ChatStoreException>(() => flipped.Read("device"));
    }

    [Fact]
    public void Open_HoldsTheLockFileExclusively_UntilDisposed()
    {
        var holder = ChatStore.Open(Path, _account, _userKey);
        holder.Write("seen", "1"u8);
        holder.Save();

        Assert.Throws<IOException>(() => new FileStream(Path + ".lock", FileMode.Open, FileAccess.ReadWrite, FileShare.None));
        holder.Dispose();

        using var next = ChatStore.Open(Path, _account, _userKey);
        Assert.Equal("1"u8.ToArray(), next.Read("seen"));
    }

    [Fact]
    public void Open_OfAFileThatIsNotAStore_IsRefusedWithOneLine()
    {
        File.WriteAllText(Path, JsonSerializer.Serialize(new { format = "something-else", version = 1 }));

        var refused = Assert.Throws<ChatStoreException>(() => ChatStore.Open(Path, _account, _userKey));

        Assert.Contains("damaged", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);
    }

    private void Seed(params string[] namesAndTexts)
    {
        File.Delete(Path);
        using var store = ChatStore.Open(Path, _account, _userKey);
        for (var i = 0; i < namesAndTexts.Length; i += 2)
        {
            store.Write(namesAndTexts[i], Encoding.UTF8.GetBytes(namesAndTexts[i + 1]));
        }

        store.Save();
    }
}
