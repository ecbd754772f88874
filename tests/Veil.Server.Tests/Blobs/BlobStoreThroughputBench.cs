// Drop upload + download throughput through the S3 store (s3rver) against the file store, in the same run on the same
// machine (docs/PERFORMANCE.md, "Blob stores"). VEIL_BENCH=1 runs it; VEIL_BENCH_DROP_MIB sets the size (default 64).
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Veil.Server.Tests.Drop;
using Veil.Server.Tests.Kit;
using Xunit.Abstractions;

namespace Veil.Server.Tests.Blobs;

public sealed class BlobStoreThroughputBench(ITestOutputHelper output)
{
    [BenchFact]
    public async Task DropThroughput_S3StoreAgainstFileStore()
    {
        var mib = int.Parse(Environment.GetEnvironmentVariable("VEIL_BENCH_DROP_MIB") ?? "64", CultureInfo.InvariantCulture);
        await using var s3 = await S3rver.StartAsync();
        Assert.True(s3.Available, "s3rver is needed (npm ci --prefix tests/peers/s3rver)");
        var plaintext = new byte[mib * 1024 * 1024];
        Random.Shared.NextBytes(plaintext);

        var results = new List<(string Store, double Up, double Down)>();
        foreach (var round in new[] { "files", "s3", "files", "s3" }) // twice each, interleaved: the machine's load drifts
        {
            await using var server = await VeilTestServer.StartAsync(o =>
            {
                o.Settings["Veil:Drop:MaxDropBytes"] = (2L * plaintext.Length).ToString(CultureInfo.InvariantCulture);
                o.Settings["Veil:Drop:Anonymous:MaxDropBytes"] = (2L * plaintext.Length).ToString(CultureInfo.InvariantCulture);
                if (round == "s3")
                {
                    foreach (var (key, value) in s3.Settings)
                    {
                        o.Settings[key] = value;
                    }
                }
            });
            var api = new DropApi(server.Client);
            var drop = await api.CreateAsync(DropApi.ContentSizeFor(plaintext.Length));
            var ciphertext = DropApi.Encrypt(drop.Id, plaintext, "bench.bin");
            var clock = Stopwatch.StartNew();
            await api.UploadAllAsync(drop, ciphertext);
            var up = clock.Elapsed.TotalSeconds;
            clock.Restart();
            using (var download = await api.ContentAsync(drop.Id))
            {
                Assert.Equal(HttpStatusCode.OK, download.StatusCode);
                await using var body = await download.Content.ReadAsStreamAsync();
                var buffer = new byte[256 * 1024];
                long total = 0;
                int read;
                while ((read = await body.ReadAsync(buffer)) > 0)
                {
                    total += read;
                }

                Assert.Equal(ciphertext.Content.Length, total);
            }

            var down = clock.Elapsed.TotalSeconds;
            var size = ciphertext.Content.Length / (1024.0 * 1024.0);
            results.Add((round, size / up, size / down));
            output.WriteLine($"{round,-5}: {mib} MiB drop in {drop.PartCount} parts: upload {size / up:F0} MiB/s, download {size / down:F0} MiB/s");
        }

        double Best(string store, Func<(string Store, double Up, double Down), double> pick) => results.Where(r => r.Store == store).Max(pick);
        output.WriteLine($"best of 2: s3/files upload {Best("s3", r => r.Up) / Best("files", r => r.Up):F2}x, download {Best("s3", r => r.Down) / Best("files", r => r.Down):F2}x");
    }
}
