using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text.Json;
using Veil.Client.Drop;
using Veil.Crypto.Drop;
using Veil.Crypto.Streams;

namespace Veil.Cli.Tests.Drop;

/// <summary>
/// Runs alone: these tests move hundreds of MiB through two processes, which would starve the timed start-up
/// checks of other classes (ServeTests' 10-second health deadline) on a 2-core machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DropCliTestGroup
{
    public const string Name = "drop-cli";
}

/// <summary>`veil drop` as a process against the real Drop server on loopback.</summary>
[UnsupportedOSPlatform("windows")] // file modes, /proc
[Collection(DropCliTestGroup.Name)]
public sealed class DropCliTests : IAsyncLifetime
{
    private DropCli _cli = null!;

    public async Task InitializeAsync() => _cli = await DropCli.StartAsync();

    public async Task DisposeAsync() => await _cli.DisposeAsync();

    [Fact]
    public async Task SendThenGet_Random5MiB_IsByteIdentical_LinkIsLastLine_TokenFileIs0600()
    {
        string file = _cli.WriteRandomFile("report 2030.bin", 5 * 1024 * 1024);

        CliResult sent = await _cli.RunAsync(["drop", "send", file]);
        string link = sent.LastLine;
        CliResult got = await _cli.RunAsync(["drop", "get", link, "-o", _cli.Downloads]);

        Assert.True(sent.ExitCode == 0, sent.ToString());
        Assert.Matches(@"^http://127\.0\.0\.1:\d+/d/[A-Za-z0-9_-]{22}#[A-Za-z0-9_-]{43}$", link);
        Assert.Contains("Owner token", sent.Stderr, StringComparison.Ordinal);
        Assert.True(got.ExitCode == 0, got.ToString());
        Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(Path.Combine(_cli.Downloads, "report 2030.bin")));
        string tokens = Path.Combine(_cli.ConfigDirectory, "drops.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokens));
        Assert.Empty(Directory.GetFiles(Path.Combine(_cli.CacheDirectory, "drop-uploads")));
    }

    [Fact]
    public async Task PasswordDrop_LinkHasNoKey_RightPasswordOpens_WrongPasswordIsNamed()
    {
        string file = _cli.WriteRandomFile("secret.pdf", 300_000);

        CliResult sentWithPassword = await _cli.RunAsync(["drop", "send", file, "--password-stdin"], "correct horse ☂\n");
        string passwordLink = sentWithPassword.LastLine;
        CliResult wrong = await _cli.RunAsync(["drop", "get", passwordLink, "-o", _cli.Downloads, "--password-stdin"], "wrong horse\n");
        Assert.Empty(Directory.GetFileSystemEntries(_cli.Downloads));
        CliResult right = await _cli.RunAsync(["drop", "get", passwordLink, "-o", _cli.Downloads, "--password-stdin"], "correct horse ☂\n");

        Assert.DoesNotContain('#', passwordLink);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("wrong password", wrong.Stderr, StringComparison.Ordinal);
        Assert.True(right.ExitCode == 0, right.ToString());
        Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(Path.Combine(_cli.Downloads, "secret.pdf")));
    }

    [Fact]
    public async Task Info_Json_ShowsNameAndDownloads_ThenDelete_RemovesIt()
    {
        string file = _cli.WriteRandomFile("notes.txt", 1000);
        string link = await _cli.SendAsync(file, "--downloads", "3");
        Assert.Equal(0, (await _cli.RunAsync(["drop", "get", link, "-o", _cli.Downloads])).ExitCode);

        CliResult info = await _cli.RunAsync(["--json", "drop", "info", link]);
        CliResult human = await _cli.RunAsync(["drop", "info", DropLink.TryParse(link)!.Id]);
        CliResult deleted = await _cli.RunAsync(["drop", "delete", link]);
        CliResult after = await _cli.RunAsync(["drop", "get", link, "-o", _cli.Downloads]);

        Assert.True(info.ExitCode == 0, info.ToString());
        using JsonDocument json = JsonDocument.Parse(info.LastLine);
        Assert.Equal("notes.txt", json.RootElement.GetProperty("name").GetString());
        Assert.Equal("text/plain", json.RootElement.GetProperty("type").GetString());
        Assert.Equal(1, json.RootElement.GetProperty("downloads").GetInt32());
        Assert.Equal(3, json.RootElement.GetProperty("maxDownloads").GetInt32());
        Assert.Contains("downloads: 1 of 3", human.Stdout, StringComparison.Ordinal);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal(1, after.ExitCode);
        Assert.Contains("no such drop", after.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(DropLink.TryParse(link)!.Id, await File.ReadAllTextAsync(Path.Combine(_cli.ConfigDirectory, "drops.json")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_WithoutOwnerToken_IsRefusedClearly()
    {
        string link = await _cli.SendAsync(_cli.WriteRandomFile("a.bin", 10));
        File.Delete(Path.Combine(_cli.ConfigDirectory, "drops.json"));

        CliResult result = await _cli.RunAsync(["drop", "delete", link]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no owner token", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_AfterExpiry_SaysExpired()
    {
        string link = await _cli.SendAsync(_cli.WriteRandomFile("a.bin", 1000), "--expires", "5m");
        _cli.Server.Time.Advance(TimeSpan.FromMinutes(6));

        CliResult result = await _cli.RunAsync(["drop", "get", link, "-o", _cli.Downloads]);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("veil: this drop has expired", result.Stderr.Trim());
        Assert.Empty(Directory.GetFileSystemEntries(_cli.Downloads));
    }

    [Fact]
    public async Task Get_PastTheDownloadLimit_SaysUsedUp()
    {
        string link = await _cli.SendAsync(_cli.WriteRandomFile("a.bin", 1000), "--downloads", "1");
        CliResult first = await _cli.RunAsync(["drop", "get", link, "-o", _cli.Downloads]);

        CliResult second = await _cli.RunAsync(["drop", "get", link, "-o", _cli.Downloads]);

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("used up", second.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_TamperedBlob_IntegrityError_NoFileLeft()
    {
        string file = _cli.WriteRandomFile("a.bin", 3 * 1024 * 1024);
        string link = await _cli.SendAsync(file);
        string blob = _cli.BlobFiles(DropLink.TryParse(link)!.Id)[1];
        byte[] bytes = await File.ReadAllBytesAsync(blob);
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(blob, bytes);

        CliResult result = await _cli.RunAsync(["drop", "get", link, "-o", _cli.Downloads]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("tampered", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("veil:", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFileSystemEntries(_cli.Downloads));
    }

    [Fact]
    public async Task Get_TruncatedBlob_ServerReportsDamage_NoFileLeft()
    {
        string link = await _cli.SendAsync(_cli.WriteRandomFile("a.bin", 2 * 1024 * 1024 + 5000));
        string last = _cli.BlobFiles(DropLink.TryParse(link)!.Id)[^1];
        await using (var stream = new FileStream(last, FileMode.Open))
        {
            stream.SetLength(stream.Length - 100);
        }

        CliResult result = await _cli.RunAsync(["drop", "get", link, "-o", _cli.Downloads]);

        Assert.True(result.ExitCode == 1, result.ToString());
        // The server checks stored part sizes before streaming and answers blob-damaged (spec/drop-api.md).
        Assert.True(result.Stderr.Contains("damaged", StringComparison.Ordinal), result.ToString());
        Assert.Empty(Directory.GetFileSystemEntries(_cli.Downloads));
    }

    [Fact]
    public async Task Get_WrongKeyInLink_SaysWrongKey_NothingDownloaded()
    {
        string link = await _cli.SendAsync(_cli.WriteRandomFile("a.bin", 1000), "--downloads", "1");
        using DropKey other = DropKey.Generate();
        string wrongLink = link[..(link.IndexOf('#', StringComparison.Ordinal) + 1)] + other.ToBase64Url();

        CliResult wrong = await _cli.RunAsync(["drop", "get", wrongLink, "-o", _cli.Downloads]);
        CliResult right = await _cli.RunAsync(["drop", "get", link, "-o", _cli.Downloads]);

        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("wrong key", wrong.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, right.ExitCode); // the wrong key did not spend the only download
    }

    [Fact]
    public async Task Get_HostileNames_StayInsideTheDirectory()
    {
        string[] names = ["../../escape.txt", "/tmp/absolute.txt", "evil\u001b[31m\u0007.txt", "..", "CON.txt", "a/b\\c.txt"];
        var links = new List<string>();
        foreach (string name in names)
        {
            links.Add(await CreateDropWithNameAsync(name, [.. "hostile"u8]));
        }

        var results = new List<CliResult>();
        foreach (string link in links)
        {
            results.Add(await _cli.RunAsync(["--json", "drop", "get", link, "-o", _cli.Downloads]));
        }

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        string[] saved = [.. Directory.GetFiles(_cli.Downloads).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
        Assert.Contains("escape.txt", saved);
        Assert.Contains("absolute.txt", saved);
        Assert.Contains("evil[31m.txt", saved);
        Assert.Contains("c.txt", saved);
        Assert.Equal(2, saved.Count(n => n.StartsWith("drop-", StringComparison.Ordinal)));
        Assert.Equal(6, saved.Length);
        Assert.False(File.Exists(Path.Combine(_cli.Root, "escape.txt")));
        Assert.False(File.Exists("/tmp/absolute.txt") && File.ReadAllText("/tmp/absolute.txt") == "hostile");
        Assert.All(results, r => Assert.StartsWith(_cli.Downloads + "/", JsonDocument.Parse(r.LastLine).RootElement.GetProperty("path").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Json_SendAndGet_PrintParseableObjects()
    {
        string file = _cli.WriteRandomFile("data.json", 20_000);

        CliResult sent = await _cli.RunAsync(["--json", "drop", "send", file]);
        using JsonDocument sentJson = JsonDocument.Parse(sent.LastLine);
        string link = sentJson.RootElement.GetProperty("link").GetString()!;
        CliResult got = await _cli.RunAsync(["--json", "drop", "get", link, "-o", _cli.Downloads]);
        using JsonDocument gotJson = JsonDocument.Parse(got.LastLine);

        Assert.All(sent.StdoutLines.Concat(got.StdoutLines), line => JsonDocument.Parse(line).Dispose());
        Assert.Equal("sent", sentJson.RootElement.GetProperty("event").GetString());
        Assert.Equal(43, sentJson.RootElement.GetProperty("ownerToken").GetString()!.Length);
        Assert.Equal("received", gotJson.RootElement.GetProperty("event").GetString());
        Assert.Equal(20_000, gotJson.RootElement.GetProperty("size").GetInt64());
        Assert.Equal("application/json", gotJson.RootElement.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("drop", "get", "not-a-link")]
    [InlineData("drop", "send", "/no/such/file")]
    [InlineData("drop", "send", "/etc/hostname", "--expires", "99d")]
    [InlineData("drop", "send", "/etc/hostname", "--downloads", "0")]
    [InlineData("drop", "info", "no such id!")]
    public async Task BadArguments_Exit2_WithOneLine(params string[] args)
    {
        CliResult result = await _cli.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Send_KilledMidUpload_RerunResumesTheSameDrop_ByteIdentical()
    {
        string file = _cli.WriteRandomFile("big.bin", 96 * 1024 * 1024);
        string states = Path.Combine(_cli.CacheDirectory, "drop-uploads");
        using (Process first = _cli.Start(["drop", "send", file]))
        {
            var clock = Stopwatch.StartNew();
            while (PartsRecorded(states) < 3)
            {
                Assert.False(first.HasExited, "the first send finished before it could be killed");
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "no parts were recorded");
                await Task.Delay(10);
            }

            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
        }

        string state = Directory.GetFiles(states, "*.json").Single();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(state));
        string id = JsonDocument.Parse(await File.ReadAllTextAsync(state)).RootElement.GetProperty("id").GetString()!;

        CliResult second = await _cli.RunAsync(["drop", "send", file]);
        CliResult got = await _cli.RunAsync(["drop", "get", second.LastLine, "-o", _cli.Downloads]);

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("Resumed", second.Stderr, StringComparison.Ordinal);
        Assert.Equal(id, DropLink.TryParse(second.LastLine)!.Id);
        Assert.Empty(Directory.GetFiles(states));
        Assert.True(got.ExitCode == 0, got.ToString());
        byte[] original = await File.ReadAllBytesAsync(file);
        byte[] received = await File.ReadAllBytesAsync(Path.Combine(_cli.Downloads, "big.bin"));
        Assert.True(original.AsSpan().SequenceEqual(received), "the resumed drop differs from the file");
    }

    [Fact]
    public async Task Send_256MiB_PeakClientMemoryStaysUnder128MiB()
    {
        await using DropCli cli = await DropCli.StartAsync(partSize: 8 * 1024 * 1024);
        string file = cli.WriteRandomFile("large.bin", 256 * 1024 * 1024);
        using Process process = cli.Start(["drop", "send", file]);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        long peakKiB = 0;
        while (!process.HasExited)
        {
            peakKiB = Math.Max(peakKiB, ReadVmHwmKiB(process.Id) ?? 0);
            await Task.Delay(20);
        }

        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await stderr);
        Assert.Matches("/d/", await stdout);
        Assert.True(peakKiB > 0, "VmHWM was never read");
        Assert.True(peakKiB < 128 * 1024, $"peak RSS {peakKiB / 1024} MiB");
        Console.WriteLine($"veil drop send 256 MiB: peak RSS {peakKiB / 1024} MiB");
    }

    private static int PartsRecorded(string states)
    {
        if (!Directory.Exists(states))
        {
            return 0;
        }

        foreach (string path in Directory.GetFiles(states, "*.json"))
        {
            try
            {
                using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
                return doc.RootElement.GetProperty("partHashes").EnumerateObject().Count();
            }
            catch (Exception ex) when (ex is IOException or JsonException)
            {
                // Being replaced right now: read it again next time.
            }
        }

        return 0;
    }

    private static long? ReadVmHwmKiB(int pid)
    {
        try
        {
            string? line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // the process just exited
        }
    }

    /// <summary>A drop whose metadata carries <paramref name="name"/> as is: what a hostile sender can do.</summary>
    private async Task<string> CreateDropWithNameAsync(string name, byte[] content)
    {
        using var http = new HttpClient { BaseAddress = new Uri(_cli.Origin + "/") };
        var api = new DropApi(http);
        using DropKey key = DropKey.Generate();
        DropCreated created = await api.CreateAsync(new CreateDropRequest(Cobblestone256.GetCiphertextLength(content.Length), 3600, null, null));
        await api.PutMetadataAsync(created.Id, created.OwnerToken, DropCipher.EncryptMetadata(key, created.Id, new DropMetadata(name, "text/plain", content.Length)));
        var blob = new MemoryStream();
        await using (CobblestoneEncryptStream encryptor = DropCipher.CreateContentEncryptor(blob, key, created.Id, DropCipher.NewContentSalt(), leaveOpen: true))
        {
            await encryptor.WriteAsync(content);
            await encryptor.CompleteAsync();
        }

        await api.UploadPartAsync(created.Id, created.OwnerToken, 0, blob.ToArray());
        await api.FinalizeAsync(created.Id, created.OwnerToken);
        return DropLink.Format(_cli.Origin, created.Id, key);
    }
}
