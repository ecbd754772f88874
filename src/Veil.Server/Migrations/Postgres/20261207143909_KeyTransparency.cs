using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Veil.Server.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class KeyTransparency : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "KtEntries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Subject = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    Body = table.Column<byte[]>(type: "bytea", nullable: false),
                    LeafIndex = table.Column<long>(type: "bigint", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_KtEntries", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "KtLogHead",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false),
                    Origin = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    RootHash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    Frontier = table.Column<byte[]>(type: "bytea", nullable: false),
                    Checkpoint = table.Column<string>(type: "text", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_KtLogHead", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_KtEntries_LeafIndex",
                table: "KtEntries",
                column: "LeafIndex",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_KtEntries_Subject_LeafIndex",
                table: "KtEntries",
                columns: new[] { "Subject", "LeafIndex" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "KtEntries");

            migrationBuilder.DropTable(
                name: "KtLogHead");
        }
    }
}
