// Intent helpers for Vault integration tests. The client side of spec/vault.md is played here with
// plain AES-256-GCM (System.Security.Cryptography), exactly as the contract states it, so these tests
// need no client library and check the server against the format itself.
using System.Buffers.Text;
using System.Data.Common;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Veil.Server.Platform.Jobs;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;
using Xunit;

namespace Veil.Server.Tests.Vault;

/// <summary>What a test owner keeps client-side about one vault.</summary>
public sealed record TestVault(string Id, byte[] UserKey, byte[] VaultKey);

public static partial class VaultKit
{
    public const string Base = "/api/v1/vault/vaults";

    /// <summary>A fixed `escrow` server key, so breach tests can play "the attacker has the environment".</summary>
    public static readonly byte[] EscrowSecret = Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray();

    private static readonly string[] Policies = ["vault-claim", "vault-rehearse"];

    public static Task<VeilTestServer> StartVaultServerAsync(Action<VeilTestServerOptions>? configure = null) =>
        IdentityKit.StartIdentityServerAsync(options =>
        {
            options.Settings["Veil:Keys:escrow"] = Convert.ToBase64String(EscrowSecret);
            foreach (var policy in Policies)
            {
                options.Settings[$"Veil:RateLimits:{policy}:PermitLimit"] = "100000";
            }

            configure?.Invoke(options);
        });

    /// <summary>
    /// A registered owner whose bearer (<see cref="TestUser.AccessToken"/>) is an API key: switch tests advance
    /// the clock by days, past any access token's life, and API keys are what scripts check in with.
    /// </summary>
    public static async Task<TestUser> RegisterOwnerAsync(this VeilTestServer server, string? email = null)
    {
        var user = await server.RegisterUserAsync(email);
        return user with { AccessToken = await server.CreateApiKeyAsync(user) };
    }

    public static string NewId() => Guid.NewGuid().ToString("D");

    public static string B64(ReadOnlySpan<byte> bytes) => Base64Url.EncodeToString(bytes);

    /// <summary>"v1." + base64url(nonce12 || AES-256-GCM(key, nonce, plaintext, aad)).</summary>
    public static string Seal(byte[] key, byte[] plaintext, string aad)
    {
        var output = new byte[12 + plaintext.Length + 16];
        RandomNumberGenerator.Fill(output.AsSpan(0, 12));
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(output.AsSpan(0, 12), plaintext, output.AsSpan(12, plaintext.Length), output.AsSpan(12 + plaintext.Length), Encoding.ASCII.GetBytes(aad));
        return "v1." + B64(output);
    }

    /// <summary>Opens a CT; null if it does not authenticate (a tampered or foreign value).</summary>
    public static byte[]? Open(byte[] key, string ct, string aad)
    {
        Assert.StartsWith("v1.", ct, StringComparison.Ordinal);
        var bytes = Base64Url.DecodeFromChars(ct.AsSpan(3));
        var plain = new byte[bytes.Length - 28];
        using var aes = new AesGcm(key, 16);
        try
        {
            aes.Decrypt(bytes.AsSpan(0, 12), bytes.AsSpan(12, plain.Length), bytes.AsSpan(12 + plain.Length), plain, Encoding.ASCII.GetBytes(aad));
            return plain;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }

    public static string Field(TestVault vault, string itemId, string path, string value) =>
        Seal(vault.VaultKey, Encoding.UTF8.GetBytes(value), $"veil/v1/vault-field|{vault.Id}|{itemId}|{path}");

    public static string? OpenField(byte[] vaultKey, string vaultId, string itemId, string path, string ct) =>
        Open(vaultKey, ct, $"veil/v1/vault-field|{vaultId}|{itemId}|{path}") is { } plain ? Encoding.UTF8.GetString(plain) : null;

    public static async Task<TestVault> CreateVaultAsync(this VeilTestServer server, TestUser owner, string name = "My vault")
    {
        var vault = new TestVault(NewId(), RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        using var response = await server.PostAsync(Base, new
        {
            id = vault.Id,
            name = Field(vault, "", "name", name),
            wrappedKey = Seal(vault.UserKey, vault.VaultKey, "veil/v1/vault-key|" + vault.Id),
        }, owner.AccessToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return vault;
    }

    public static object ItemBody(TestVault vault, string itemId, string title, string notes, params (string Label, string Value)[] fields) => new
    {
        title = Field(vault, itemId, "title", title),
        notes = Field(vault, itemId, "notes", notes),
        tags = new[] { Field(vault, itemId, "tags/0", "tag") },
        fields = fields.Select((f, i) => new { label = Field(vault, itemId, $"fields/{i}/label", f.Label), value = Field(vault, itemId, $"fields/{i}/value", f.Value) }).ToArray(),
    };

    public static async Task<string> PutItemAsync(this VeilTestServer server, TestUser owner, TestVault vault, string title, string notes, params (string Label, string Value)[] fields)
    {
        var itemId = NewId();
        using var response = await server.SendAsync(HttpMethod.Put, $"{Base}/{vault.Id}/items/{itemId}", ItemBody(vault, itemId, title, notes, fields), owner.AccessToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return itemId;
    }

    public static async Task<HttpResponseMessage> PutFileAsync(this VeilTestServer server, TestUser owner, TestVault vault, string itemId, string fileId, byte[] content, string? name = null, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri($"{Base}/{vault.Id}/items/{itemId}/files/{fileId}", UriKind.Relative))
        {
            Content = new ByteArrayContent(content),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add("Veil-File-Name", name ?? Field(vault, itemId, $"files/{fileId}/name", "photo.jpg"));
        request.Headers.Add("Veil-File-Key", key ?? Seal(vault.VaultKey, RandomNumberGenerator.GetBytes(32), $"veil/v1/vault-field|{vault.Id}|{itemId}|files/{fileId}/key"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", owner.AccessToken);
        return await server.Client.SendAsync(request);
    }

    /// <summary>Adds a recipient the way the client does: fresh delivery key, escrow = vault key under it. Returns the delivery key.</summary>
    public static async Task<(string Id, byte[] DeliveryKey)> AddRecipientAsync(this VeilTestServer server, TestUser owner, TestVault vault, string email)
    {
        var id = NewId();
        var deliveryKey = RandomNumberGenerator.GetBytes(32);
        using var response = await server.PostAsync($"{Base}/{vault.Id}/recipients", new
        {
            id,
            email,
            escrow = Seal(deliveryKey, vault.VaultKey, $"veil/v1/vault-escrow|{vault.Id}|{id}"),
            deliveryKey = B64(deliveryKey),
        }, owner.AccessToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (id, deliveryKey);
    }

    public static async Task<JsonElement> ArmAsync(this VeilTestServer server, TestUser owner, TestVault vault, TimeSpan interval, TimeSpan grace)
    {
        using var response = await server.SendAsync(HttpMethod.Put, $"{Base}/{vault.Id}/switch",
            new { intervalSeconds = (long)interval.TotalSeconds, graceSeconds = (long)grace.TotalSeconds }, owner.AccessToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.JsonAsync();
    }

    public static async Task<JsonElement> SwitchAsync(this VeilTestServer server, TestUser owner, TestVault vault)
    {
        using var response = await server.SendAsync(HttpMethod.Get, $"{Base}/{vault.Id}/switch", bearer: owner.AccessToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    /// <summary>Runs one scheduler tick now, as the job runner would.</summary>
    public static async Task RunSchedulerAsync(this VeilTestServer server) =>
        Assert.True(await server.Services.GetRequiredService<PeriodicJobRunner>().RunNowAsync("vault-switch", CancellationToken.None));

    /// <summary>Mail to <paramref name="email"/> whose subject contains <paramref name="subject"/>.</summary>
    public static IReadOnlyList<OutboxMail> MailTo(this VeilTestServer server, string email, string subject = "") =>
        [.. server.ReadOutbox().Where(m => m.Headers.TryGetValue("To", out var to) && to.Contains(email, StringComparison.OrdinalIgnoreCase)
            && m.Headers.GetValueOrDefault("Subject", "").Contains(subject, StringComparison.Ordinal))];

    public static string ClaimToken(OutboxMail mail) => ClaimLink().Match(mail.TextBody) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("no claim link in the mail");

    public static string CheckInToken(OutboxMail mail) => CheckInLink().Match(mail.TextBody) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("no check-in link in the mail");

    public static string Code(OutboxMail mail) => CodePattern().Match(mail.TextBody) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("no code in the mail");

    /// <summary>Requests a code for a claim link and reads it from the newest matching mail to <paramref name="email"/>.</summary>
    public static async Task<string> RequestCodeAsync(this VeilTestServer server, string token, string email)
    {
        var before = server.MailTo(email, "code").Select(m => m.FileName).ToHashSet(StringComparer.Ordinal);
        using var response = await server.PostAsync("/api/v1/vault/claim/code", new { token });
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return Code(Assert.Single(server.MailTo(email, "code"), m => !before.Contains(m.FileName)));
    }

    public static Task<HttpResponseMessage> ClaimAsync(this VeilTestServer server, string token, string code) =>
        server.PostAsync("/api/v1/vault/claim", new { token, code });

    public static string? PostgresConnection(this VeilTestServer server) => server.Services.GetRequiredService<IConfiguration>()["ConnectionStrings:Postgres"];

    /// <summary>Every value of every row of the Vault tables, as the database stores it (SQLite or PostgreSQL).</summary>
    public static async Task<List<Dictionary<string, object?>>> ReadRowsAsync(this VeilTestServer server, string table)
    {
        DbConnection connection = server.Database == "postgres" ? new NpgsqlConnection(server.PostgresConnection()) : new SqliteConnection($"Data Source={Path.Combine(server.DataDirectory, "veil.db")};Mode=ReadOnly");
        await using (connection)
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM \"{table}\""; // table names are the test's constants
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<Dictionary<string, object?>>();
            while (await reader.ReadAsync())
            {
                var row = new Dictionary<string, object?>(StringComparer.Ordinal);
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }

                rows.Add(row);
            }

            return rows;
        }
    }

    [GeneratedRegex(@"/vault/claim/([A-Za-z0-9_-]{86})")]
    private static partial Regex ClaimLink();

    [GeneratedRegex(@"/vault/checkin/([A-Za-z0-9_-]{75})")]
    private static partial Regex CheckInLink();

    [GeneratedRegex(@"Your code: (\d{6})")]
    private static partial Regex CodePattern();
}
