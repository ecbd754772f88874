using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Veil.Server;
using Veil.Server.Tests.Kit;
using static Veil.Cli.Tests.CliAccounts;

namespace Veil.Cli.Tests.Mailbox;

/// <summary>
/// Issue 17, points 7 and 8 through `veil` child processes against the in-process server (MailSendCliTests.World:
/// Alice, Bob and Carol with one address each): `veil mail search` answers from the encrypted search index, and large
/// attachments travel as Cobblestone-256 blobs referenced from the end-to-end encrypted message.
/// </summary>
[Collection(AccountVerbsTestGroup.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class MailBlobsCliTests : IClassFixture<MailSendCliTests.World>
{
    private readonly MailSendCliTests.World _world;

    public MailBlobsCliTests(MailSendCliTests.World world)
    {
        _world = world;
    }

    private VeilTestServer Server => _world.Server;

    [Fact]
    public async Task Search_FindsAMessageByABodyWordAndByAnAttachmentName_NotAfterDeletion_AndTheWordsAreStoredNowhere()
    {
        var subjectWord = "subjword" + Hex(5);
        var bodyWord = "bodyword" + Hex(5);
        var fileName = "filename" + Hex(5) + ".txt";
        var attachment = Path.Combine(_world.Directory, fileName);
        await File.WriteAllTextAsync(attachment, "small attachment");
        Ok(await _world.Alice.RunAsync(
            ["mail", "send", "--to", _world.BobAddress, "--subject", "About " + subjectWord, "--body", "The word is " + bodyWord + ".", "--attach", attachment, "--password-stdin"],
            StrongPassword + "\n"));
        var id = (await ListAsync(_world.Bob)).Single(m => Subject(m) == "About " + subjectWord).GetProperty("id").GetString();

        Assert.Contains(id, await SearchAsync(_world.Bob, bodyWord));
        Assert.Contains(id, await SearchAsync(_world.Bob, Path.GetFileNameWithoutExtension(fileName)));
        Assert.Contains(id, await SearchAsync(_world.Bob, subjectWord[..12])); // a word's start finds it
        Assert.Empty(await SearchAsync(_world.Carol, bodyWord));

        // The audit: the index is stored (sealed) but none of its words is readable in any stored file or the logs.
        var stored = await AllStoredTextAsync();
        Assert.Contains(Directory.GetDirectories(Path.Combine(Server.DataDirectory, "blobs", "mail"), "search", SearchOption.AllDirectories), d => Directory.GetFiles(d, "*", SearchOption.AllDirectories).Length > 0);
        foreach (var word in new[] { subjectWord, bodyWord, fileName })
        {
            Assert.DoesNotContain(word, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(word, Server.Logs.AllText, StringComparison.Ordinal);
        }

        Ok(await _world.Bob.RunAsync(["mail", "delete", id!, "--password-stdin"], StrongPassword + "\n"));
        Assert.Empty(await SearchAsync(_world.Bob, bodyWord));
    }

    [Fact]
    public async Task LargeAttachment_20MiB_ArrivesByteIdentical_IsOneBlobForBothCopies_AndGoesWithTheLastCopy()
    {
        var subject = "large-" + Hex(6);
        var content = RandomNumberGenerator.GetBytes(20 * 1024 * 1024);
        var file = Path.Combine(_world.Directory, "video-" + Hex(4) + ".bin");
        await File.WriteAllBytesAsync(file, content);
        var before = AttachmentBlobs();

        var sentId = Ok(await _world.Alice.RunAsync(
            ["mail", "send", "--to", _world.BobAddress, "--subject", subject, "--body", "see attached", "--attach", file, "--json", "--password-stdin"], StrongPassword + "\n"))
            .Event("mail-sent").GetProperty("sentId").GetString()!;
        var blob = AttachmentBlobs().Except(before).Single();
        Assert.Equal(Veil.Crypto.Streams.Cobblestone256.GetCiphertextLength(content.Length), new FileInfo(blob).Length);

        var id = (await ListAsync(_world.Bob)).Single(m => Subject(m) == subject).GetProperty("id").GetString()!;
        var saveTo = Path.Combine(_world.Directory, "bob-" + Hex(4));
        var read = Ok(await _world.Bob.RunAsync(["mail", "read", id, "--save-attachments", saveTo, "--password-stdin"], StrongPassword + "\n"));
        Assert.Contains("Signature: valid", read.Stdout, StringComparison.Ordinal);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(saveTo, Path.GetFileName(file)))));
        Assert.Single(Directory.GetFiles(saveTo));

        // Bob deletes his copy: Alice's Sent copy still references the blob. Alice deletes hers: the blob goes.
        Ok(await _world.Bob.RunAsync(["mail", "delete", id, "--password-stdin"], StrongPassword + "\n"));
        Assert.True(File.Exists(blob));
        Ok(await _world.Alice.RunAsync(["mail", "delete", sentId, "--password-stdin"], StrongPassword + "\n"));
        Assert.False(File.Exists(blob));
    }

    [Fact]
    public async Task LargeAttachment_Tampered_IsRefusedWithOneLine_AndNoFileIsLeft()
    {
        var subject = "tamper-" + Hex(6);
        var file = Path.Combine(_world.Directory, "report-" + Hex(4) + ".bin");
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(3 * 1024 * 1024));
        var before = AttachmentBlobs();
        Ok(await _world.Alice.RunAsync(["mail", "send", "--to", _world.BobAddress, "--subject", subject, "--body", "x", "--attach", file, "--password-stdin"], StrongPassword + "\n"));
        var blob = AttachmentBlobs().Except(before).Single();

        // One bit flipped in the middle of the stored ciphertext (a later chunk: earlier ones still authenticate).
        await using (var stream = new FileStream(blob, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = stream.Length / 2;
            var b = stream.ReadByte();
            stream.Position = stream.Length / 2;
            stream.WriteByte((byte)(b ^ 0x01));
        }

        var id = (await ListAsync(_world.Bob)).Single(m => Subject(m) == subject).GetProperty("id").GetString()!;
        var saveTo = Path.Combine(_world.Directory, "bob-" + Hex(4));
        var read = await _world.Bob.RunAsync(["mail", "read", id, "--save-attachments", saveTo, "--password-stdin"], StrongPassword + "\n");

        Assert.Equal(1, read.ExitCode);
        Assert.Contains("did not verify", read.Stderr, StringComparison.Ordinal);
        Assert.Single(read.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Empty(Directory.GetFiles(saveTo, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task LargeAttachment_Expires_TheJobDeletesTheBlobWithTheCopies()
    {
        var subject = "expiring-" + Hex(6);
        var file = Path.Combine(_world.Directory, "brief-" + Hex(4) + ".bin");
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(2 * 1024 * 1024));
        var before = AttachmentBlobs();
        Ok(await _world.Alice.RunAsync(["mail", "send", "--to", _world.BobAddress, "--subject", subject, "--body", "x", "--attach", file, "--expires", "1d", "--password-stdin"], StrongPassword + "\n"));
        var blob = AttachmentBlobs().Except(before).Single();

        await RunJobAsync("mail-confidential");
        Assert.True(File.Exists(blob), "not due yet");

        Server.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        await RunJobAsync("mail-confidential");

        Assert.False(File.Exists(blob));
    }

    /// <summary>
    /// The issue's bound: a 25 MiB message costs the server less than 64 MiB. The blob path is measured at 25 MiB; the
    /// inline path (the whole attachment inside the sealed copies, the send request buffered) at 18 MiB, the most that
    /// fits Veil:Mail:MaxMessageSize once base64 and MIME are added, for comparison (not asserted).
    /// </summary>
    [BenchTheory]
    [InlineData(25, false)]
    [InlineData(18, true)]
    public async Task Measure_AttachmentSentAndRead_ServerMemoryGrowth(int mebibytes, bool inline)
    {
        var subject = "measure-" + Hex(6);
        var file = Path.Combine(_world.Directory, "measure-" + Hex(4) + ".bin");
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(mebibytes * 1024 * 1024));
        string[] threshold = inline ? ["--inline-max", "1000000000"] : [];
        var saveTo = Path.Combine(_world.Directory, "measure-" + Hex(4));

        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        await File.WriteAllTextAsync("/proc/self/clear_refs", "5"); // resets VmHWM to the current RSS
        var rssBefore = StatusKiB("VmRSS:");
        long heapPeak = heapBefore;
        using (new Timer(_ => Interlocked.Exchange(ref heapPeak, Math.Max(Interlocked.Read(ref heapPeak), GC.GetTotalMemory(false))), null, 0, 10))
        {
            Ok(await _world.Alice.RunAsync(["mail", "send", "--to", _world.BobAddress, "--subject", subject, "--body", "x", "--attach", file, .. threshold, "--password-stdin"], StrongPassword + "\n"));
            var id = (await ListAsync(_world.Bob)).Single(m => Subject(m) == subject).GetProperty("id").GetString()!;
            Ok(await _world.Bob.RunAsync(["mail", "read", id, "--save-attachments", saveTo, "--password-stdin"], StrongPassword + "\n"));
        }

        Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(Directory.GetFiles(saveTo).Single()));

        var rssPeak = StatusKiB("VmHWM:");
        var heapGrowthMiB = (Interlocked.Read(ref heapPeak) - heapBefore) / 1048576.0;
        var rssGrowthMiB = (rssPeak - rssBefore) / 1024.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"mail {mebibytes} MiB attachment {(inline ? "inline" : "as a blob")} sent and read ({Server.Database}): server managed heap peak +{heapGrowthMiB:F1} MiB, process RSS peak +{rssGrowthMiB:F1} MiB"));
        Assert.True(inline || heapGrowthMiB < 64, $"managed heap grew {heapGrowthMiB:F1} MiB");
    }

    private static long StatusKiB(string field)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private string[] AttachmentBlobs()
    {
        var root = Path.Combine(Server.DataDirectory, "blobs", "mail-attachments");
        return Directory.Exists(root) ? Directory.GetFiles(root, "data", SearchOption.AllDirectories) : [];
    }

    private static async Task<IReadOnlyList<string?>> SearchAsync(VeilCli cli, string term) =>
        [.. Ok(await cli.RunAsync(["mail", "search", term, "--json", "--password-stdin"], StrongPassword + "\n")).Json.Single()
            .GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetString())];

    private static string? Subject(JsonElement message) =>
        message.GetProperty("summary") is { ValueKind: JsonValueKind.Object } summary ? summary.GetProperty("subject").GetString() : null;

    private static async Task<IReadOnlyList<JsonElement>> ListAsync(VeilCli cli) =>
        [.. Ok(await cli.RunAsync(["mail", "list", "--json", "--password-stdin"], StrongPassword + "\n")).Json.Single().GetProperty("messages").EnumerateArray()];

    private async Task RunJobAsync(string name)
    {
        // The job runner is internal to the server; reached the way MailSendCliTests does.
        var runnerType = typeof(VeilServer).Assembly.GetType("Veil.Server.Platform.Jobs.PeriodicJobRunner", throwOnError: true)!;
        var runner = Server.Services.GetService(runnerType)!;
        var ran = (Task<bool>)runnerType.GetMethod("RunNowAsync", BindingFlags.Public | BindingFlags.Instance)!.Invoke(runner, [name, CancellationToken.None])!;
        Assert.True(await ran);
    }

    /// <summary>Every file under the data directory (Latin-1 text), plus the PostgreSQL dump when the server uses it.</summary>
    private async Task<string> AllStoredTextAsync()
    {
        var text = new StringBuilder();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(Server.DataDirectory, "*", SearchOption.AllDirectories))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            text.Append(Encoding.Latin1.GetString(copy.ToArray())).Append('\n');
        }

        if (Server.Database == "postgres")
        {
            text.Append(await StoredData.ReadAsync(Server));
        }

        return text.ToString();
    }

    private static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));
}
