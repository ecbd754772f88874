using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http.Features;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Drop;

/// <summary>
/// Runs alone: the heap test measures the process's live heap, and tests running beside it hold memory of their own
/// (it once failed in CI at 8.7 MiB against its 8 MiB bound while the chat and mail tests ran alongside).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DropDurabilityGroup
{
    public const string Name = "Drop durability and heap (alone)";
}

[Collection(DropDurabilityGroup.Name)]
public sealed class DropDurabilityTests
{
    [Fact]
    public async Task Upload_ServerRestartedMidway_ResumesOnTheSameDataAndFinishes()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "veil-drop-restart-" + Guid.NewGuid().ToString("N"));
        await using var database = await TestDatabase.CreateAsync(CancellationToken.None);
        try
        {
            var plaintext = Enumerable.Range(0, 50_000).Select(i => (byte)i).ToArray();
            CreatedDrop drop;
            DropCiphertext ciphertext;
            await using (var first = await StartAsync(dataDirectory, database))
            {
                var api = new DropApi(first.Client);
                drop = await api.CreateAsync(DropApi.ContentSizeFor(plaintext.Length));
                ciphertext = DropApi.Encrypt(drop.Id, plaintext, "r.txt");
                using (await api.PutPartAsync(drop, 0, DropApi.Part(drop, ciphertext.Content, 0)))
                using (await api.PutPartAsync(drop, 1, DropApi.Part(drop, ciphertext.Content, 1)))
                {
                }
            }

            await using var second = await StartAsync(dataDirectory, database);
            var resumed = new DropApi(second.Client);
            using (var status = await resumed.SendOwnerAsync(HttpMethod.Get, drop, "/parts"))
            {
                var received = (await status.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("received");
                Assert.Equal([0, 1], received.EnumerateArray().Select(e => e.GetInt32()));
            }

            await resumed.UploadAllAsync(drop, ciphertext);
            using var download = await resumed.ContentAsync(drop.Id);
            Assert.Equal(ciphertext.Content, await download.Content.ReadAsByteArrayAsync());
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Upload_256MiB_DoesNotGrowTheServerHeapByMoreThanAFewMiB()
    {
        await using var server = await VeilTestServer.StartAsync(o => o.Settings["Veil:Drop:PartSizeBytes"] = (64 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var api = new DropApi(server.Client);
        const long size = 256L * 1024 * 1024;
        var drop = await api.CreateAsync(size);

        // Warm up every code path once, then measure.
        using (await api.SendOwnerAsync(HttpMethod.Get, drop, "/parts"))
        {
        }

        var before = GC.GetTotalMemory(forceFullCollection: true);
        long peak = before;
        using var sampler = new Timer(_ => Interlocked.Exchange(ref peak, Math.Max(Interlocked.Read(ref peak), GC.GetTotalMemory(false))), null, 0, 20);
        for (var i = 0; i < drop.PartCount; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/drops/{drop.Id}/parts/{i}") { Content = new PatternContent(drop.PartSize) };
            request.Headers.Add("X-Owner-Token", drop.OwnerToken);
            using var response = await server.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.True(after - before < 8L * 1024 * 1024, $"retained heap grew by {(after - before) / 1024} KiB");
        // Without forced collections the heap may hold garbage, but never anything near a part (64 MiB).
        Assert.True(Interlocked.Read(ref peak) - before < 48L * 1024 * 1024, $"peak heap grew by {(peak - before) / 1024} KiB");
    }

    [Fact]
    public async Task CanaryAudit_DatabaseBlobsAndLogs_NeverHoldTheNameOrThePlaintext()
    {
        const string fileName = "canary-secret-plans-7Q2.txt";
        var plaintext = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("CANARY plaintext: the falcon meets the river at noon. ", 400)));
        await using var server = await VeilTestServer.StartAsync(o => o.Settings["Veil:Drop:PartSizeBytes"] = "8192");
        var api = new DropApi(server.Client);
        var (drop, ciphertext) = await api.ShareAsync(plaintext, fileName, maxDownloads: 5);
        using (await api.ContentAsync(drop.Id))
        using (await api.ContentAsync(drop.Id, null, new RangeHeaderValue(0, 100)))
        using (await server.Client.PostAsJsonAsync($"/api/v1/drops/{drop.Id}/reports", new { reason = "other", comment = "about " + fileName }))
        {
        }

        var haystacks = new List<(string Where, byte[] Bytes)>();
        foreach (var file in Directory.EnumerateFiles(server.DataDirectory, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            haystacks.Add((file, copy.ToArray()));
        }

        Assert.Contains(haystacks, h => h.Where.Contains("blobs", StringComparison.Ordinal)); // the scan saw the blob store
        if (server.Database == "postgres")
        {
            haystacks.Add(("pg_dump", Encoding.UTF8.GetBytes(await PostgresDumpAsync(server))));
        }

        haystacks.Add(("logs", Encoding.UTF8.GetBytes(server.Logs.AllText)));
        var needles = new List<byte[]> { Encoding.UTF8.GetBytes(fileName), Encoding.UTF8.GetBytes(Convert.ToHexStringLower(Encoding.UTF8.GetBytes(fileName))) };
        for (var offset = 0; offset + 32 <= 200; offset += 16)
        {
            needles.Add(plaintext[offset..(offset + 32)]); // any 32-byte run (the text repeats, so these cover all of it)
            needles.Add(Encoding.UTF8.GetBytes(Convert.ToHexStringLower(plaintext[offset..(offset + 32)])));
        }

        foreach (var (where, bytes) in haystacks)
        {
            foreach (var needle in needles)
            {
                Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"canary found in {where}");
            }
        }

        Assert.NotEmpty(ciphertext.Content);
    }

    private static Task<string> PostgresDumpAsync(VeilTestServer server) =>
        PostgresDump.DataAsync(server.Services.GetRequiredService<IConfiguration>()["ConnectionStrings:Postgres"]);

    // A server on a data directory and database that outlive it (the kit's server deletes both).
    private static async Task<RestartableServer> StartAsync(string dataDirectory, TestDatabase database)
    {
        var setup = new VeilServerSetup
        {
            EnvironmentName = "Testing",
            ConfigureLogging = logging => logging.ClearProviders(),
        };
        setup.Settings["urls"] = "http://127.0.0.1:0";
        setup.Settings["Veil:DataDirectory"] = dataDirectory;
        setup.Settings["Veil:Drop:PartSizeBytes"] = "16384";
        if (database.ConnectionString is not null)
        {
            setup.Settings["ConnectionStrings:Postgres"] = database.ConnectionString;
        }

        var app = VeilServer.Build(setup);
        await VeilServer.StartAsync(app, CancellationToken.None);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new RestartableServer(app, new HttpClient { BaseAddress = new Uri(address) });
    }

    private sealed class RestartableServer(WebApplication app, HttpClient client) : IAsyncDisposable
    {
        public HttpClient Client => client;

        public async ValueTask DisposeAsync()
        {
            client.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>A body of <c>length</c> bytes produced from one small buffer (the test client holds no big array either).</summary>
    private sealed class PatternContent(long length) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            var buffer = new byte[64 * 1024];
            for (long sent = 0; sent < length; sent += buffer.Length)
            {
                await stream.WriteAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - sent)));
            }
        }

        protected override bool TryComputeLength(out long length1)
        {
            length1 = length;
            return true;
        }
    }
}
