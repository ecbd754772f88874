using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Sqlite
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
                    Id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    OwnerId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", nullable: false),
                    WrappedKey = table.Column<string>(type: "TEXT", nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Vaults", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "VaultClaimLinks",
                columns: table => new
                {
                    Digest = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    VaultId = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    SubjectId = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    Rehearsal = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                    CodeDigest = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: true),
                    CodeExpiresAt = table.Column<long>(type: "INTEGER", nullable: true),
                    CodesSent = table.Column<int>(type: "INTEGER", nullable: false),
                    CodeWindowStart = table.Column<long>(type: "INTEGER", nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    UsedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    LockedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    DownloadDigest = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: true),
                    DownloadExpiresAt = table.Column<long>(type: "INTEGER", nullable: true)
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
                    Id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    VaultId = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    ItemId = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    Name = table.Column<string>(type: "TEXT", nullable: false),
                    Key = table.Column<string>(type: "TEXT", nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
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
                    Id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    VaultId = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    Title = table.Column<string>(type: "TEXT", nullable: false),
                    Notes = table.Column<string>(type: "TEXT", nullable: true),
                    Tags = table.Column<string>(type: "TEXT", nullable: false),
                    Fields = table.Column<string>(type: "TEXT", nullable: false),
                    Revision = table.Column<int>(type: "INTEGER", nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
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
                    Id = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    VaultId = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    Escrow = table.Column<string>(type: "TEXT", nullable: false),
                    SealedDeliveryKey = table.Column<byte[]>(type: "BLOB", maxLength: 62, nullable: true),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    NotifiedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    ClaimedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Email = table.Column<byte[]>(type: "BLOB", nullable: false)
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
                    VaultId = table.Column<string>(type: "TEXT", maxLength: 36, nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    IntervalSeconds = table.Column<int>(type: "INTEGER", nullable: false),
                    GraceSeconds = table.Column<int>(type: "INTEGER", nullable: false),
                    LastCheckInAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Generation = table.Column<long>(type: "INTEGER", nullable: false),
                    RemindersSent = table.Column<int>(type: "INTEGER", nullable: false),
                    NextActionAt = table.Column<long>(type: "INTEGER", nullable: true),
                    ReleasedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Version = table.Column<int>(type: "INTEGER", nullable: false)
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
