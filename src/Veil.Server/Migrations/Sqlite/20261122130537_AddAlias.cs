using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AddAlias : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AliasDailyUsage",
                columns: table => new
                {
                    AccountId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Day = table.Column<string>(type: "TEXT", maxLength: 10, nullable: false),
                    Created = table.Column<int>(type: "INTEGER", nullable: false),
                    Forwarded = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AliasDailyUsage", x => new { x.AccountId, x.Day });
                });

            migrationBuilder.CreateTable(
                name: "AliasHandledMessages",
                columns: table => new
                {
                    Key = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    At = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AliasHandledMessages", x => x.Key);
                });

            migrationBuilder.CreateTable(
                name: "AliasLog",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    AccountId = table.Column<Guid>(type: "TEXT", nullable: false),
                    AliasId = table.Column<Guid>(type: "TEXT", nullable: true),
                    At = table.Column<long>(type: "INTEGER", nullable: false),
                    Event = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AliasLog", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AliasRecipients",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    AccountId = table.Column<Guid>(type: "TEXT", nullable: false),
                    EmailIndex = table.Column<byte[]>(type: "BLOB", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    VerifiedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    VerifyTokenHash = table.Column<byte[]>(type: "BLOB", nullable: true),
                    VerifyTokenExpiresAt = table.Column<long>(type: "INTEGER", nullable: true),
                    PausedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    PausedReason = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    Email = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AliasRecipients", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AliasTombstones",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    AddressIndex = table.Column<byte[]>(type: "BLOB", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AliasTombstones", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Aliases",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    AccountId = table.Column<Guid>(type: "TEXT", nullable: false),
                    AddressIndex = table.Column<byte[]>(type: "BLOB", nullable: true),
                    Domain = table.Column<string>(type: "TEXT", maxLength: 253, nullable: false),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    DisabledAction = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedByCatchAll = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Received = table.Column<long>(type: "INTEGER", nullable: false),
                    Forwarded = table.Column<long>(type: "INTEGER", nullable: false),
                    Blocked = table.Column<long>(type: "INTEGER", nullable: false),
                    Replied = table.Column<long>(type: "INTEGER", nullable: false),
                    Bounced = table.Column<long>(type: "INTEGER", nullable: false),
                    LastEmailAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Address = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Label = table.Column<byte[]>(type: "BLOB", nullable: true),
                    Note = table.Column<byte[]>(type: "BLOB", nullable: true),
                    RecipientIdsJson = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Aliases", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AliasBounces",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    RecipientId = table.Column<Guid>(type: "TEXT", nullable: false),
                    At = table.Column<long>(type: "INTEGER", nullable: false),
                    Hard = table.Column<bool>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AliasBounces", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AliasBounces_AliasRecipients_RecipientId",
                        column: x => x.RecipientId,
                        principalTable: "AliasRecipients",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AliasContacts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    AliasId = table.Column<Guid>(type: "TEXT", nullable: false),
                    AccountId = table.Column<Guid>(type: "TEXT", nullable: false),
                    PairIndex = table.Column<byte[]>(type: "BLOB", nullable: true),
                    ReverseAddressIndex = table.Column<byte[]>(type: "BLOB", nullable: true),
                    IsBlocked = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Forwarded = table.Column<long>(type: "INTEGER", nullable: false),
                    BlockedCount = table.Column<long>(type: "INTEGER", nullable: false),
                    Replied = table.Column<long>(type: "INTEGER", nullable: false),
                    LastEmailAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Address = table.Column<byte[]>(type: "BLOB", nullable: false),
                    ReverseAddress = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AliasContacts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AliasContacts_Aliases_AliasId",
                        column: x => x.AliasId,
                        principalTable: "Aliases",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AliasBounces_RecipientId_At",
                table: "AliasBounces",
                columns: new[] { "RecipientId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_AliasContacts_AccountId",
                table: "AliasContacts",
                column: "AccountId");

            migrationBuilder.CreateIndex(
                name: "IX_AliasContacts_AliasId",
                table: "AliasContacts",
                column: "AliasId");

            migrationBuilder.CreateIndex(
                name: "IX_AliasContacts_PairIndex",
                table: "AliasContacts",
                column: "PairIndex");

            migrationBuilder.CreateIndex(
                name: "IX_AliasContacts_ReverseAddressIndex",
                table: "AliasContacts",
                column: "ReverseAddressIndex",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AliasHandledMessages_At",
                table: "AliasHandledMessages",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_AliasLog_AccountId_At",
                table: "AliasLog",
                columns: new[] { "AccountId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_AliasLog_At",
                table: "AliasLog",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_AliasRecipients_AccountId",
                table: "AliasRecipients",
                column: "AccountId");

            migrationBuilder.CreateIndex(
                name: "IX_AliasRecipients_EmailIndex",
                table: "AliasRecipients",
                column: "EmailIndex");

            migrationBuilder.CreateIndex(
                name: "IX_AliasRecipients_VerifyTokenHash",
                table: "AliasRecipients",
                column: "VerifyTokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AliasTombstones_AddressIndex",
                table: "AliasTombstones",
                column: "AddressIndex");

            migrationBuilder.CreateIndex(
                name: "IX_Aliases_AccountId",
                table: "Aliases",
                column: "AccountId");

            migrationBuilder.CreateIndex(
                name: "IX_Aliases_AddressIndex",
                table: "Aliases",
                column: "AddressIndex",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AliasBounces");

            migrationBuilder.DropTable(
                name: "AliasContacts");

            migrationBuilder.DropTable(
                name: "AliasDailyUsage");

            migrationBuilder.DropTable(
                name: "AliasHandledMessages");

            migrationBuilder.DropTable(
                name: "AliasLog");

            migrationBuilder.DropTable(
                name: "AliasTombstones");

            migrationBuilder.DropTable(
                name: "AliasRecipients");

            migrationBuilder.DropTable(
                name: "Aliases");
        }
    }
}
