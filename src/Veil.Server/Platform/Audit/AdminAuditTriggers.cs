// The database side of "appending is the only write path" (issue 24 point 3): triggers on AdminAuditEntries refuse
// UPDATE (and TRUNCATE on PostgreSQL) always, and DELETE unless the row's day is before a cutoff in AdminAuditPurges,
// which only the retention job writes, inside the transaction of its delete, and removes before committing.
// Created by the BreachNotices migration, so an installation has them from its first start after it.
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Veil.Server.Platform.Audit;

/// <summary>The retention job's declaration, inside its transaction, that rows before <see cref="Before"/> may be deleted.</summary>
internal sealed class AdminAuditPurge
{
    public Guid Id { get; private set; }

    public DateOnly Before { get; private set; }

    public static AdminAuditPurge Create(DateOnly before) => new() { Id = Guid.NewGuid(), Before = before };
}

internal sealed class AdminAuditPurgeConfiguration : IEntityTypeConfiguration<AdminAuditPurge>
{
    public void Configure(EntityTypeBuilder<AdminAuditPurge> builder)
    {
        builder.ToTable("AdminAuditPurges");
        builder.HasKey(x => x.Id);
        builder.Property(x => x.Id).ValueGeneratedNever();
    }
}

/// <summary>Creates and drops the append-only triggers of AdminAuditEntries (called from the BreachNotices migration).</summary>
internal static class AdminAuditTriggers
{
    public const string UpdateRefused = "AdminAuditEntries is append-only: a row is never updated";
    public const string DeleteRefused = "AdminAuditEntries is append-only: only the retention job deletes, and only rows past the retention";
    private const string Postgres = "Npgsql.EntityFrameworkCore.PostgreSQL";

    public static void Create(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        if (migrationBuilder.ActiveProvider == Postgres)
        {
            migrationBuilder.Sql($$"""
                CREATE FUNCTION veil_admin_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $body$
                BEGIN
                    IF TG_OP = 'UPDATE' THEN
                        RAISE EXCEPTION '{{UpdateRefused}}';
                    END IF;
                    IF TG_OP = 'TRUNCATE' OR NOT EXISTS (SELECT 1 FROM "AdminAuditPurges" p WHERE OLD."Day" < p."Before") THEN
                        RAISE EXCEPTION '{{DeleteRefused}}';
                    END IF;
                    RETURN OLD;
                END
                $body$;
                CREATE TRIGGER admin_audit_append_only BEFORE UPDATE OR DELETE ON "AdminAuditEntries"
                    FOR EACH ROW EXECUTE FUNCTION veil_admin_audit_append_only();
                CREATE TRIGGER admin_audit_no_truncate BEFORE TRUNCATE ON "AdminAuditEntries"
                    FOR EACH STATEMENT EXECUTE FUNCTION veil_admin_audit_append_only();
                """);
            return;
        }

        migrationBuilder.Sql($"""
            CREATE TRIGGER admin_audit_no_update BEFORE UPDATE ON "AdminAuditEntries"
            BEGIN SELECT RAISE(ABORT, '{UpdateRefused}'); END;
            """);
        migrationBuilder.Sql($"""
            CREATE TRIGGER admin_audit_no_delete BEFORE DELETE ON "AdminAuditEntries"
            WHEN NOT EXISTS (SELECT 1 FROM "AdminAuditPurges" p WHERE OLD."Day" < p."Before")
            BEGIN SELECT RAISE(ABORT, '{DeleteRefused}'); END;
            """);
    }

    public static void Drop(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql(migrationBuilder.ActiveProvider == Postgres
            ? """
              DROP TRIGGER IF EXISTS admin_audit_append_only ON "AdminAuditEntries";
              DROP TRIGGER IF EXISTS admin_audit_no_truncate ON "AdminAuditEntries";
              DROP FUNCTION IF EXISTS veil_admin_audit_append_only();
              """
            : """
              DROP TRIGGER IF EXISTS admin_audit_no_update;
              DROP TRIGGER IF EXISTS admin_audit_no_delete;
              """);
    }
}
