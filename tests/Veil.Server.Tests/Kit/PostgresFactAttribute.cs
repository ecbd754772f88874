namespace Veil.Server.Tests.Kit;

/// <summary>
/// A test of behaviour that exists on PostgreSQL only (several nodes on one database, LISTEN/NOTIFY). On SQLite Veil is
/// one node, so the test is skipped there, saying so; VEIL_TEST_DATABASE=postgres runs it.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (TestDatabase.ChosenProvider != "postgres")
        {
            Skip = "PostgreSQL only: several nodes share one database only on PostgreSQL (SQLite is one node, woken in process); run with VEIL_TEST_DATABASE=postgres.";
        }
    }

    /// <summary>Why the behaviour exists on PostgreSQL only, when it is not the several-nodes reason.</summary>
    public string? Because
    {
        get => Skip;
        init
        {
            if (Skip is not null)
            {
                Skip = $"PostgreSQL only: {value}; run with VEIL_TEST_DATABASE=postgres.";
            }
        }
    }
}
