using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AddDrop : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "DropOwnerStandings",
                columns: table => new
                {
                    OwnerKey = table.Column<string>(type: "character varying(220)", maxLength: 220, nullable: false),
                    Strikes = table.Column<int>(type: "integer", nullable: false),
                    UploadBannedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DropOwnerStandings", x => x.OwnerKey);
                });

            migrationBuilder.CreateTable(
                name: "DropReports",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    DropId = table.Column<string>(type: "character varying(22)", maxLength: 22, nullable: false),
                    OwnerKey = table.Column<string>(type: "character varying(220)", maxLength: 220, nullable: false),
                    TrackingTokenHash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    ReporterIpHash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    Reason = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    SealedKey = table.Column<byte[]>(type: "bytea", maxLength: 128, nullable: true),
                    Status = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ResolvedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Comment = table.Column<byte[]>(type: "bytea", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DropReports", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Drops",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(22)", maxLength: 22, nullable: false),
                    OwnerTokenHash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    OwnerUserId = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    OwnerKey = table.Column<string>(type: "character varying(220)", maxLength: 220, nullable: false),
                    ContentSize = table.Column<long>(type: "bigint", nullable: false),
                    PartSize = table.Column<int>(type: "integer", nullable: false),
                    PartCount = table.Column<int>(type: "integer", nullable: false),
                    Metadata = table.Column<byte[]>(type: "bytea", maxLength: 4096, nullable: true),
                    PasswordSalt = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: true),
                    WrappedKey = table.Column<byte[]>(type: "bytea", maxLength: 256, nullable: true),
                    ExpiresInSeconds = table.Column<int>(type: "integer", nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    MaxDownloads = table.Column<int>(type: "integer", nullable: true),
                    Downloads = table.Column<int>(type: "integer", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastActivityAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    FinalizedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    TakenDownAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    PurgedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Drops", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "DropParts",
                columns: table => new
                {
                    DropId = table.Column<string>(type: "character varying(22)", maxLength: 22, nullable: false),
                    Index = table.Column<int>(type: "integer", nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DropParts", x => new { x.DropId, x.Index });
                    table.ForeignKey(
                        name: "FK_DropParts_Drops_DropId",
                        column: x => x.DropId,
                        principalTable: "Drops",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "DropTickets",
                columns: table => new
                {
                    Hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    DropId = table.Column<string>(type: "character varying(22)", maxLength: 22, nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DropTickets", x => x.Hash);
                    table.ForeignKey(
                        name: "FK_DropTickets_Drops_DropId",
                        column: x => x.DropId,
                        principalTable: "Drops",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_DropReports_DropId_ReporterIpHash",
                table: "DropReports",
                columns: new[] { "DropId", "ReporterIpHash" });

            migrationBuilder.CreateIndex(
                name: "IX_DropReports_Status_CreatedAt",
                table: "DropReports",
                columns: new[] { "Status", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_DropReports_TrackingTokenHash",
                table: "DropReports",
                column: "TrackingTokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_DropTickets_DropId",
                table: "DropTickets",
                column: "DropId");

            migrationBuilder.CreateIndex(
                name: "IX_DropTickets_ExpiresAt",
                table: "DropTickets",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_Drops_ExpiresAt",
                table: "Drops",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_Drops_LastActivityAt",
                table: "Drops",
                column: "LastActivityAt");

            migrationBuilder.CreateIndex(
                name: "IX_Drops_OwnerKey",
                table: "Drops",
                column: "OwnerKey");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "DropOwnerStandings");

            migrationBuilder.DropTable(
                name: "DropParts");

            migrationBuilder.DropTable(
                name: "DropReports");

            migrationBuilder.DropTable(
                name: "DropTickets");

            migrationBuilder.DropTable(
                name: "Drops");
        }
    }
}
