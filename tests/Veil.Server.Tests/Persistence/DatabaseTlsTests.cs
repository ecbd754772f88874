// Production's TLS rule for PostgreSQL (issue 24 point 5): a database reached over a network must verify its TLS
// certificate, loopback and Unix sockets are exempt, the refusal names the setting and never the connection string's
// secrets; and, against the test command's PostgreSQL with TLS from a throwaway CA, a production server connects with
// SSL Mode=VerifyFull (pg_stat_ssl shows its sessions encrypted) and refuses a server its CA file does not vouch for.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Veil.Server.Platform.Keys;
using Veil.Server.Platform.Outbox;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Persistence;

public sealed class DatabaseTlsTests
{
    private const string Canary = "canary-db-password-5d1c";
    private const string PostgresCaVariable = "VEIL_TEST_POSTGRES_CA";

    [Theory]
    [InlineData("Host=db.example.org;Username=veil;Password=" + Canary, "Prefer")]
    [InlineData("Host=10.0.0.5;Username=veil;SSL Mode=Require;Password=" + Canary, "Require")]
    [InlineData("Host=db.example.org;SSL Mode=VerifyCA;Password=" + Canary, "VerifyCA")] // chain checked, name not
    [InlineData("Host=127.0.0.1,db.example.org;Password=" + Canary, "Prefer")] // one of the hosts leaves the machine
    public void Production_NetworkHostWithoutVerifyFull_IsRefused_NamingTheSetting_NotItsValue(string connectionString, string mode)
    {
        var problem = Assert.Single(DatabaseTls.Problems(Configuration(connectionString, production: true)));

        Assert.StartsWith("ConnectionStrings:Postgres (env ConnectionStrings__Postgres): in production a database reached over the network must verify", problem, StringComparison.Ordinal);
        Assert.Contains("SSL Mode=VerifyFull", problem, StringComparison.Ordinal);
        Assert.EndsWith($"(now: SSL Mode={mode})", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(Canary, problem, StringComparison.Ordinal);
        Assert.DoesNotContain("example.org", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=db.example.org;SSL Mode=VerifyFull;Root Certificate=/etc/veil/db-ca.pem", true)]
    [InlineData("Host=127.0.0.1;Port=5432", true)]
    [InlineData("Host=localhost", true)]
    [InlineData("Host=::1", true)]
    [InlineData("Host=/var/run/postgresql", true)]
    [InlineData("Host=db.example.org", false)] // development: no rule
    public void VerifyFull_Loopback_UnixSocket_OrDevelopment_Pass(string connectionString, bool production) =>
        Assert.Empty(DatabaseTls.Problems(Configuration(connectionString, production)));

    [Fact]
    public void Production_Start_RefusesAnUnverifiedNetworkDatabase_BeforeConnecting()
    {
        var setup = new VeilServerSetup();
        setup.Settings["Veil:DataDirectory"] = Directory.CreateTempSubdirectory("veil-dbtls-").FullName;
        setup.Settings["Veil:Production"] = "true";
        setup.Settings["ConnectionStrings:Postgres"] = $"Host=db.example.org;Username=veil;Password={Canary}";
        var error = Assert.Throws<VeilStartupException>(() => VeilServer.Build(setup));

        Assert.Contains(error.Problems, p => p.StartsWith("ConnectionStrings:Postgres (env ConnectionStrings__Postgres): in production", StringComparison.Ordinal));
        Assert.DoesNotContain(error.Problems, p => p.Contains(Canary, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("mail.example.org:587", "Required", "STARTTLS required, certificate and name verified against the system's roots")]
    [InlineData("mail.example.org:25", null, "STARTTLS when offered (then verified against the system's roots), in clear when not; warning: a network attacker can strip STARTTLS: set Veil:Mail:SmarthostTls=Required")]
    [InlineData("mail.example.org:25", "None", "no TLS; warning: mail crosses the network in clear: set Veil:Mail:SmarthostTls=Required")]
    [InlineData("127.0.0.1:25", "None", "no TLS (loopback)")]
    public void OutgoingSummary_SaysTheSmarthostsTlsPolicy_AndWarnsWhenMailCanCrossInClear(string smarthost, string? tls, string policy)
    {
        var settings = new Dictionary<string, string?> { ["Veil:Mail:Smarthost"] = smarthost, ["Veil:Mail:SmarthostTls"] = tls };
        var summary = OutboxRegistration.OutgoingSummary(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());

        Assert.Equal($"smarthost {smarthost}: {policy}", summary);
    }

    [PostgresFact(Because = "the test command's throwaway PostgreSQL speaks TLS")]
    public async Task Production_OnPostgresWithTls_VerifyFullConnectsEncrypted_AndAnotherCaIsRefused()
    {
        var caFile = Environment.GetEnvironmentVariable(PostgresCaVariable);
        Assert.False(string.IsNullOrEmpty(caFile), $"{PostgresCaVariable} must name the CA of the TLS-enabled test PostgreSQL (./test.sh sets it: scripts/postgres.sh start DIR PORT --tls)");
        var admin = Environment.GetEnvironmentVariable(Kit.TestDatabase.PostgresVariable)!;
        var name = "veil_tls_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
        await ExecuteAsync(admin, $"CREATE DATABASE {name}"); // generated hex, not input
        var applicationName = "veil-tls-" + name[^10..];
        var verified = new NpgsqlConnectionStringBuilder(admin)
        {
            Host = "localhost", // the certificate's name; loopback would be exempt, but TLS is asked for explicitly
            Database = name,
            SslMode = SslMode.VerifyFull,
            RootCertificate = caFile,
            ApplicationName = applicationName,
        };
        var otherCa = Path.Combine(Path.GetTempPath(), $"veil-other-ca-{Guid.NewGuid():N}.pem");
        try
        {
            await using (var server = await VeilTestServer.StartAsync(o => Production(o, verified.ConnectionString)))
            {
                Assert.Equal("postgres", (await server.GetHealthAsync()).Database);
                // A connection of the server's own (its DbContext, its connection string), asked about itself.
                await using var scope = server.Services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
                await db.Database.OpenConnectionAsync();
                await using var query = db.Database.GetDbConnection().CreateCommand();
                query.CommandText = "SELECT s.ssl, a.application_name FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE s.pid = pg_backend_pid()";
                await using var reader = await query.ExecuteReaderAsync();
                Assert.True(await reader.ReadAsync());
                Assert.True(reader.GetBoolean(0), "the production server's connection is not encrypted");
                Assert.Equal(applicationName, reader.GetString(1));
            }

            await File.WriteAllTextAsync(otherCa, SelfSignedCa());
            var wrong = new NpgsqlConnectionStringBuilder(verified.ConnectionString) { RootCertificate = otherCa, Password = Canary };
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => VeilTestServer.StartAsync(o => Production(o, wrong.ConnectionString)));
            var message = refused is VeilStartupException startup ? string.Join(" ", startup.Problems) : refused.Message;
            Assert.Contains("Cannot open the postgres database", message, StringComparison.Ordinal);
            Assert.DoesNotContain(Canary, message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(otherCa);
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        }
    }

    private static void Production(VeilTestServerOptions options, string connectionString)
    {
        options.Settings["Veil:Production"] = "true";
        options.Settings["Veil:PublicOrigin"] = "https://veil.example.org";
        options.Settings["ConnectionStrings:Postgres"] = connectionString;
        foreach (var name in ServerKeys.Names)
        {
            options.Settings[$"Veil:Keys:{name}"] = Convert.ToBase64String(Enumerable.Range(name.Length, 32).Select(i => (byte)i).ToArray());
        }
    }

    private static IConfiguration Configuration(string connectionString, bool production) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = connectionString,
            ["Veil:Production"] = production ? "true" : "false",
        }).Build();

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string SelfSignedCa()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=not-the-database-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return certificate.ExportCertificatePem();
    }
}
