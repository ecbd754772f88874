// Persistence: one EF Core model (VeilDbContext), two providers, each with its own migrations.
//
// Adding a table (docs/adr/0001-persistence.md):
//   1. Put the entity and an IEntityTypeConfiguration<T> in the module's folder (Drop/Drop.cs, ...).
//      Every configuration in Veil.Server is applied; nothing to register. Encrypted columns:
//      builder.HasEncryptedColumn(x => x.Email); blind indexes:
//      builder.HasBlindIndex(x => x.Email, x => x.EmailIndex, "account-email", BlindIndexNormalization.TrimLowercase).
//   2. Add a migration for both providers, with the same name (from the repository root):
//        dotnet ef migrations add <Name> --project src/Veil.Server --context SqliteVeilDbContext --output-dir Migrations/Sqlite
//        dotnet ef migrations add <Name> --project src/Veil.Server --context PostgresVeilDbContext --output-dir Migrations/Postgres
//      On this workplace's NuGet mirror, Microsoft.EntityFrameworkCore.Design does not restore, so
//      run src/Veil.Server/Migrations/add-migration.sh <Name>, which runs exactly those two commands.
//   3. The ModelHasNoPendingChanges tests fail until both migrations exist.
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using Veil.Crypto.Keys;

namespace Veil.Server.Platform.Persistence;

/// <summary>Which database this server uses, for <c>/health</c> and diagnostics.</summary>
public interface IDatabaseInfo
{
    /// <summary><c>sqlite</c> or <c>postgres</c>.</summary>
    string ProviderName { get; }
}

/// <summary>The database could not be reached or opened at start. The message names the redacted connection string.</summary>
public sealed class DatabaseUnavailableException : Exception
{
    public DatabaseUnavailableException()
    {
    }

    public DatabaseUnavailableException(string message)
        : base(message)
    {
    }

    public DatabaseUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

public static class PersistenceExtensions
{
    /// <summary>
    /// Registers <see cref="VeilDbContext"/> (scoped): PostgreSQL when <c>ConnectionStrings:Postgres</c>
    /// is non-empty, else SQLite at <c>&lt;dataDirectory&gt;/veil.db</c>; and a singleton <see cref="IDatabaseInfo"/>.
    /// The context takes <see cref="Keyring"/> and <see cref="TimeProvider"/> from DI, and every EF Core
    /// <see cref="IInterceptor"/> registered there (a module's <c>TryAddEnumerable(ServiceDescriptor.Singleton&lt;IInterceptor, …&gt;())</c>;
    /// Alias invalidates its RCPT cache this way). Not materialization interceptors: EF keeps those per
    /// internal service provider, so they belong in <see cref="VeilDbContext"/> itself.
    /// </summary>
    public static IServiceCollection AddVeilPersistence(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);

        var postgres = configuration["ConnectionStrings:Postgres"];
        if (!string.IsNullOrWhiteSpace(postgres))
        {
            services.AddDbContext<PostgresVeilDbContext>((sp, options) =>
            {
                VeilDatabase.ConfigurePostgres(options, postgres);
                options.AddInterceptors(sp.GetServices<IInterceptor>());
            });
            services.TryAddScoped<VeilDbContext>(sp => sp.GetRequiredService<PostgresVeilDbContext>());
            services.TryAddSingleton<IDatabaseInfo>(new DatabaseInfo("postgres", postgres));
        }
        else
        {
            var sqlite = VeilDatabase.SqliteConnectionString(dataDirectory);
            services.AddDbContext<SqliteVeilDbContext>((sp, options) =>
            {
                VeilDatabase.ConfigureSqlite(options, sqlite);
                options.AddInterceptors(sp.GetServices<IInterceptor>());
            });
            services.TryAddScoped<VeilDbContext>(sp => sp.GetRequiredService<SqliteVeilDbContext>());
            services.TryAddSingleton<IDatabaseInfo>(new DatabaseInfo("sqlite", sqlite));
        }

        return services;
    }

    /// <summary>
    /// Applies the provider's pending migrations; call once at start, before serving. EF takes a
    /// database-wide migration lock, so nodes starting together do not race.
    /// </summary>
    /// <exception cref="DatabaseUnavailableException">The database cannot be reached or opened; the message is one line with the redacted connection string.</exception>
    public static async Task MigrateVeilDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var scope = services.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var info = (DatabaseInfo)scope.ServiceProvider.GetRequiredService<IDatabaseInfo>();
            var context = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
            try
            {
                await context.Database.MigrateAsync(cancellationToken).ConfigureAwait(false);
                if (info.ProviderName == "sqlite")
                {
                    // SQLite created the file with the umask (0644): the database is the owner's alone.
                    Hosting.DataDirectory.RestrictSqliteFiles(new SqliteConnectionStringBuilder(info.ConnectionString).DataSource);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or SqliteException or TimeoutException)
            {
                // The inner exception keeps the driver's detail for a debugger; the message is what
                // operators see on the console, so it names the place and never the password.
                throw new DatabaseUnavailableException(
                    $"Cannot open the {info.ProviderName} database ({VeilDatabase.Redact(info.ConnectionString)}): {OneLine(ex.Message)}", ex);
            }
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    private sealed class DatabaseInfo(string providerName, string connectionString) : IDatabaseInfo
    {
        public string ProviderName { get; } = providerName;

        public string ConnectionString { get; } = connectionString;
    }
}
