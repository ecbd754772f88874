using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AddVault : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Vaults",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    OwnerId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "text", nullable: false),
                    WrappedKey = table.Column<string>(type: "text", nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Vaults", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "VaultClaimLinks",
                columns: table => new
                {
                    Digest = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    VaultId = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    SubjectId = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    Rehearsal = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CodeDigest = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: true),
                    CodeExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    CodesSent = table.Column<int>(type: "integer", nullable: false),
                    CodeWindowStart = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Attempts = table.Column<int>(type: "integer", nullable: false),
                    UsedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LockedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    DownloadDigest = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: true),
                    DownloadExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VaultClaimLinks", x => x.Digest);
                    table.ForeignKey(
                        name: "FK_VaultClaimLinks_Vaults_VaultId",
                        column: x => x.VaultId,
                        principalTable: "Vaults",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "VaultFiles",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    VaultId = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    ItemId = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    Name = table.Column<string>(type: "text", nullable: false),
                    Key = table.Column<string>(type: "text", nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VaultFiles", x => x.Id);
                    table.ForeignKey(
                        name: "FK_VaultFiles_Vaults_VaultId",
                        column: x => x.VaultId,
                        principalTable: "Vaults",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "VaultItems",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    VaultId = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    Title = table.Column<string>(type: "text", nullable: false),
                    Notes = table.Column<string>(type: "text", nullable: true),
                    Tags = table.Column<string>(type: "text", nullable: false),
                    Fields = table.Column<string>(type: "text", nullable: false),
                    Revision = table.Column<int>(type: "integer", nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VaultItems", x => x.Id);
                    table.ForeignKey(
                        name: "FK_VaultItems_Vaults_VaultId",
                        column: x => x.VaultId,
                        principalTable: "Vaults",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "VaultRecipients",
                columns: table => new
                {
                    Id = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    VaultId = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    Escrow = table.Column<string>(type: "text", nullable: false),
                    SealedDeliveryKey = table.Column<byte[]>(type: "bytea", maxLength: 62, nullable: true),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    NotifiedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ClaimedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Email = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VaultRecipients", x => x.Id);
                    table.ForeignKey(
                        name: "FK_VaultRecipients_Vaults_VaultId",
                        column: x => x.VaultId,
                        principalTable: "Vaults",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "VaultSwitches",
                columns: table => new
                {
                    VaultId = table.Column<string>(type: "character varying(36)", maxLength: 36, nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    IntervalSeconds = table.Column<int>(type: "integer", nullable: false),
                    GraceSeconds = table.Column<int>(type: "integer", nullable: false),
                    LastCheckInAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Generation = table.Column<long>(type: "bigint", nullable: false),
                    RemindersSent = table.Column<int>(type: "integer", nullable: false),
                    NextActionAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ReleasedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Version = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VaultSwitches", x => x.VaultId);
                    table.ForeignKey(
                        name: "FK_VaultSwitches_Vaults_VaultId",
                        column: x => x.VaultId,
                        principalTable: "Vaults",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_VaultClaimLinks_DownloadDigest",
                table: "VaultClaimLinks",
                column: "DownloadDigest");

            migrationBuilder.CreateIndex(
                name: "IX_VaultClaimLinks_SubjectId",
                table: "VaultClaimLinks",
                column: "SubjectId");

            migrationBuilder.CreateIndex(
                name: "IX_VaultClaimLinks_VaultId",
                table: "VaultClaimLinks",
                column: "VaultId");

            migrationBuilder.CreateIndex(
                name: "IX_VaultFiles_ItemId",
                table: "VaultFiles",
                column: "ItemId");

            migrationBuilder.CreateIndex(
                name: "IX_VaultFiles_VaultId",
                table: "VaultFiles",
                column: "VaultId");

            migrationBuilder.CreateIndex(
                name: "IX_VaultItems_VaultId_CreatedAt",
                table: "VaultItems",
                columns: new[] { "VaultId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_VaultRecipients_VaultId",
                table: "VaultRecipients",
                column: "VaultId");

            migrationBuilder.CreateIndex(
                name: "IX_VaultSwitches_NextActionAt",
                table: "VaultSwitches",
                column: "NextActionAt");

            migrationBuilder.CreateIndex(
                name: "IX_Vaults_OwnerId",
                table: "Vaults",
                column: "OwnerId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "VaultClaimLinks");

            migrationBuilder.DropTable(
                name: "VaultFiles");

            migrationBuilder.DropTable(
                name: "VaultItems");

            migrationBuilder.DropTable(
                name: "VaultRecipients");

            migrationBuilder.DropTable(
                name: "VaultSwitches");

            migrationBuilder.DropTable(
                name: "Vaults");
        }
    }
}
