using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class MailboxOutsider : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "MailOutsiderPackages",
                columns: table => new
                {
                    Id = table.Column<string>(type: "TEXT", maxLength: 22, nullable: false),
                    AccountId = table.Column<Guid>(type: "TEXT", nullable: false),
                    AddressId = table.Column<Guid>(type: "TEXT", nullable: false),
                    SentId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                    MaxViews = table.Column<int>(type: "INTEGER", nullable: true),
                    Views = table.Column<int>(type: "INTEGER", nullable: false),
                    Replies = table.Column<int>(type: "INTEGER", nullable: false),
                    ReplySummary = table.Column<string>(type: "TEXT", maxLength: 131072, nullable: false),
                    DestroyedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    DestroyedReason = table.Column<int>(type: "INTEGER", nullable: true),
                    Recipient = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MailOutsiderPackages", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_MailOutsiderPackages_AccountId",
                table: "MailOutsiderPackages",
                column: "AccountId");

            migrationBuilder.CreateIndex(
                name: "IX_MailOutsiderPackages_ExpiresAt",
                table: "MailOutsiderPackages",
                column: "ExpiresAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "MailOutsiderPackages");
        }
    }
}
