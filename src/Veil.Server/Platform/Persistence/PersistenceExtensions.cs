// STUB of the persistence contract, so the host compiles and runs before h4-persist is merged.
// The real file (EF Core VeilDbContext, SQLite/PostgreSQL, migrations) replaces this one.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Veil.Server.Platform.Persistence;

public static class PersistenceExtensions
{
    // Registers VeilDbContext (scoped): PostgreSQL when configuration["ConnectionStrings:Postgres"] is non-empty, else SQLite at <dataDirectory>/veil.db. Also registers a singleton IDatabaseInfo.
    public static IServiceCollection AddVeilPersistence(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        var provider = string.IsNullOrEmpty(configuration["ConnectionStrings:Postgres"]) ? "sqlite" : "postgres";
        services.TryAddSingleton<IDatabaseInfo>(new StubDatabaseInfo(provider));
        return services;
    }

    // Applies the provider's migrations; call once at start before serving.
    public static Task MigrateVeilDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken) => Task.CompletedTask;

    private sealed class StubDatabaseInfo(string providerName) : IDatabaseInfo
    {
        public string ProviderName { get; } = providerName;
    }
}

public interface IDatabaseInfo
{
    string ProviderName { get; }
}
