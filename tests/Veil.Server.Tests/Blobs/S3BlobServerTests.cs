using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Veil.Crypto.Backup;
using Veil.Server.Platform.Backup;
using Veil.Server.Platform.Diagnostics;
using Veil.Server.Tests.Drop;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Veil.Server.Tests.Vault;

namespace Veil.Server.Tests.Blobs;

/// <summary>A server that stores its blobs in s3rver (Veil:Blobs:Store=s3), shared by the tests of the class.</summary>
public sealed class S3BlobServerFixture : IAsyncLifetime
{
    public S3rver S3 { get; private set; } = null!;

    public VeilTestServer? Server { get; private set; }

    public async Task InitializeAsync()
    {
        S3 = await S3rver.StartAsync();
        if (S3.Available)
        {
            Server = await VaultKit.StartVaultServerAsync(o =>
            {
                o.Settings["Veil:Drop:PartSizeBytes"] = "16384";
                foreach (var (key, value) in S3.Settings)
                {
                    o.Settings[key] = value;
                }
            });
        }
    }

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        await S3.DisposeAsync();
    }
}

public sealed class S3BlobServerTests(S3BlobServerFixture fixture) : IClassFixture<S3BlobServerFixture>
{
    private static byte[] Plaintext(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 11 + 5))];

    [Fact]
    public async Task Backup_OnTheS3Store_IsRefusedNamingTheSetting_AndWritesNoFile()
    {
        if (fixture.Server is not { } server) return;
        var file = Path.Combine(Path.GetTempPath(), "veil-s3-backup-" + Guid.NewGuid().ToString("N") + ".vbk");
        using var identity = BackupIdentity.Generate();
        await using var scope = server.Services.CreateAsyncScope();

        var outcome = await scope.ServiceProvider.GetRequiredService<BackupAdmin>().CreateAsync(file, [identity.Recipient], null, CancellationToken.None);

        Assert.Contains("Veil:Blobs:Store=s3", outcome.Error, StringComparison.Ordinal);
        Assert.Equal((false, false), (File.Exists(file), File.Exists(file + ".partial")));
    }

    [Fact]
    public async Task Drop_UploadedInParts_DownloadsWholeAndByRange_FromTheBucket()
    {
        if (fixture.Server is not { } server) return;
        var api = new DropApi(server.Client);
        var (drop, ciphertext) = await api.ShareAsync(Plaintext(60_000));
        Assert.True(drop.PartCount > 1);

        using (var whole = await api.ContentAsync(drop.Id))
        {
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
            Assert.Equal(ciphertext.Content, await whole.Content.ReadAsByteArrayAsync());
        }

        var from = ciphertext.Content.Length - 20_000; // crosses a part boundary
        using (var range = await api.ContentAsync(drop.Id, range: new RangeHeaderValue(from, null)))
        {
            Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
            Assert.Equal(ciphertext.Content[from..], await range.Content.ReadAsByteArrayAsync());
        }

        Assert.False(Directory.Exists(Path.Combine(server.DataDirectory, "blobs", "drops")), "the parts went to the bucket, not the data directory");
    }

    [Fact]
    public async Task Drop_DeletedByItsOwner_LeavesNoObjectInTheBucket()
    {
        if (fixture.Server is not { } server) return;
        var api = new DropApi(server.Client);
        var (drop, _) = await api.ShareAsync(Plaintext(40_000));

        using (var delete = await api.SendOwnerAsync(HttpMethod.Delete, drop, ""))
        {
            Assert.True(delete.IsSuccessStatusCode, $"delete: {(int)delete.StatusCode}");
        }

        using var client = new HttpClient();
        var listing = await client.GetStringAsync(new Uri(fixture.S3.Endpoint!, $"/{S3rver.Bucket}?list-type=2&prefix=drops/{drop.Id}/"));
        Assert.DoesNotContain("<Key>", listing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VaultFile_RoundTripsThroughTheBucket_AndDeleteRemovesIt()
    {
        if (fixture.Server is not { } server) return;
        var owner = await server.RegisterOwnerAsync();
        var vault = await server.CreateVaultAsync(owner);
        var itemId = await server.PutItemAsync(owner, vault, "t", "n");
        var fileId = VaultKit.NewId();
        var content = RandomNumberGenerator.GetBytes(100_000);
        using (var put = await server.PutFileAsync(owner, vault, itemId, fileId, content))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var path = $"{VaultKit.Base}/{vault.Id}/items/{itemId}/files/{fileId}";
        using (var get = await server.SendAsync(HttpMethod.Get, path, bearer: owner.AccessToken))
        {
            Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
        }

        using (var del = await server.SendAsync(HttpMethod.Delete, path, bearer: owner.AccessToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, del.StatusCode);
        }

        using var gone = await server.SendAsync(HttpMethod.Get, path, bearer: owner.AccessToken);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Doctor_AsksTheBucket_AndReportsIt()
    {
        if (fixture.Server is not { } server) return;
        await using var scope = server.Services.CreateAsyncScope();

        var findings = await scope.ServiceProvider.GetRequiredService<ProductionDoctor>().RunAsync(CancellationToken.None);

        var blobs = Assert.Single(findings, f => f.Check == "blob-store");
        Assert.Equal(("ok", "S3 bucket on loopback over http, answering with the configured credentials"), (blobs.Status, blobs.Message));
    }
}
