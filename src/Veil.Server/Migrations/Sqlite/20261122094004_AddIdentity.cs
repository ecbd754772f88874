using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AddIdentity : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Accounts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    EmailIndex = table.Column<byte[]>(type: "BLOB", nullable: true),
                    RecoveryEmailIndex = table.Column<byte[]>(type: "BLOB", nullable: true),
                    RecoveryEmailVerified = table.Column<bool>(type: "INTEGER", nullable: false),
                    KdfMemoryKiB = table.Column<int>(type: "INTEGER", nullable: false),
                    KdfIterations = table.Column<int>(type: "INTEGER", nullable: false),
                    KdfParallelism = table.Column<int>(type: "INTEGER", nullable: false),
                    KdfSalt = table.Column<byte[]>(type: "BLOB", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    FailedSignIns = table.Column<int>(type: "INTEGER", nullable: false),
                    LockedUntil = table.Column<long>(type: "INTEGER", nullable: true),
                    TotpLastStep = table.Column<long>(type: "INTEGER", nullable: true),
                    AuthHash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Email = table.Column<byte[]>(type: "BLOB", nullable: false),
                    PendingTotpSecret = table.Column<byte[]>(type: "BLOB", nullable: true),
                    ProtectedUserKey = table.Column<byte[]>(type: "BLOB", nullable: false),
                    RecoveryEmail = table.Column<byte[]>(type: "BLOB", nullable: true),
                    TotpSecret = table.Column<byte[]>(type: "BLOB", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Accounts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "IdentityApiKeys",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    AccountId = table.Column<Guid>(type: "TEXT", nullable: false),
                    KeyHash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastUsedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Name = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_IdentityApiKeys", x => x.Id);
                    table.ForeignKey(
                        name: "FK_IdentityApiKeys_Accounts_AccountId",
                        column: x => x.AccountId,
                        principalTable: "Accounts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "IdentityBackupCodes",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    AccountId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Hash = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_IdentityBackupCodes", x => x.Id);
                    table.ForeignKey(
                        name: "FK_IdentityBackupCodes_Accounts_AccountId",
                        column: x => x.AccountId,
                        principalTable: "Accounts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "IdentityEmailTokens",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    AccountId = table.Column<Guid>(type: "TEXT", nullable: true),
                    Purpose = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    TokenHash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    EmailIndex = table.Column<byte[]>(type: "BLOB", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Email = table.Column<byte[]>(type: "BLOB", nullable: true),
                    Payload = table.Column<byte[]>(type: "BLOB", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_IdentityEmailTokens", x => x.Id);
                    table.ForeignKey(
                        name: "FK_IdentityEmailTokens_Accounts_AccountId",
                        column: x => x.AccountId,
                        principalTable: "Accounts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "IdentityRecoveryCodes",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    AccountId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Fingerprint = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_IdentityRecoveryCodes", x => x.Id);
                    table.ForeignKey(
                        name: "FK_IdentityRecoveryCodes_Accounts_AccountId",
                        column: x => x.AccountId,
                        principalTable: "Accounts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "IdentitySessions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    AccountId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastUsedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    AuthTime = table.Column<long>(type: "INTEGER", nullable: false),
                    Label = table.Column<byte[]>(type: "BLOB", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_IdentitySessions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_IdentitySessions_Accounts_AccountId",
                        column: x => x.AccountId,
                        principalTable: "Accounts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "IdentityTwoFactorChallenges",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    AccountId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TokenHash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    BodyTransport = table.Column<bool>(type: "INTEGER", nullable: false),
                    FailedAttempts = table.Column<int>(type: "INTEGER", nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Label = table.Column<byte[]>(type: "BLOB", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_IdentityTwoFactorChallenges", x => x.Id);
                    table.ForeignKey(
                        name: "FK_IdentityTwoFactorChallenges_Accounts_AccountId",
                        column: x => x.AccountId,
                        principalTable: "Accounts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "IdentityRefreshTokens",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    SessionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TokenHash = table.Column<byte[]>(type: "BLOB", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                    RotatedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_IdentityRefreshTokens", x => x.Id);
                    table.ForeignKey(
                        name: "FK_IdentityRefreshTokens_IdentitySessions_SessionId",
                        column: x => x.SessionId,
                        principalTable: "IdentitySessions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Accounts_EmailIndex",
                table: "Accounts",
                column: "EmailIndex",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Accounts_RecoveryEmailIndex",
                table: "Accounts",
                column: "RecoveryEmailIndex");

            migrationBuilder.CreateIndex(
                name: "IX_IdentityApiKeys_AccountId",
                table: "IdentityApiKeys",
                column: "AccountId");

            migrationBuilder.CreateIndex(
                name: "IX_IdentityApiKeys_KeyHash",
                table: "IdentityApiKeys",
                column: "KeyHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_IdentityBackupCodes_AccountId_Hash",
                table: "IdentityBackupCodes",
                columns: new[] { "AccountId", "Hash" });

            migrationBuilder.CreateIndex(
                name: "IX_IdentityEmailTokens_AccountId",
                table: "IdentityEmailTokens",
                column: "AccountId");

            migrationBuilder.CreateIndex(
                name: "IX_IdentityEmailTokens_EmailIndex",
                table: "IdentityEmailTokens",
                column: "EmailIndex");

            migrationBuilder.CreateIndex(
                name: "IX_IdentityEmailTokens_ExpiresAt",
                table: "IdentityEmailTokens",
                column: "ExpiresAt");

            migrationBuilder.CreateIndex(
                name: "IX_IdentityEmailTokens_TokenHash",
                table: "IdentityEmailTokens",
                column: "TokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_IdentityRecoveryCodes_AccountId_Fingerprint",
                table: "IdentityRecoveryCodes",
                columns: new[] { "AccountId", "Fingerprint" });

            migrationBuilder.CreateIndex(
                name: "IX_IdentityRefreshTokens_SessionId",
                table: "IdentityRefreshTokens",
                column: "SessionId");

            migrationBuilder.CreateIndex(
                name: "IX_IdentityRefreshTokens_TokenHash",
                table: "IdentityRefreshTokens",
                column: "TokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_IdentitySessions_AccountId",
                table: "IdentitySessions",
                column: "AccountId");

            migrationBuilder.CreateIndex(
                name: "IX_IdentityTwoFactorChallenges_AccountId",
                table: "IdentityTwoFactorChallenges",
                column: "AccountId");

            migrationBuilder.CreateIndex(
                name: "IX_IdentityTwoFactorChallenges_TokenHash",
                table: "IdentityTwoFactorChallenges",
                column: "TokenHash",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "IdentityApiKeys");

            migrationBuilder.DropTable(
                name: "IdentityBackupCodes");

            migrationBuilder.DropTable(
                name: "IdentityEmailTokens");

            migrationBuilder.DropTable(
                name: "IdentityRecoveryCodes");

            migrationBuilder.DropTable(
                name: "IdentityRefreshTokens");

            migrationBuilder.DropTable(
                name: "IdentityTwoFactorChallenges");

            migrationBuilder.DropTable(
                name: "IdentitySessions");

            migrationBuilder.DropTable(
                name: "Accounts");
        }
    }
}
