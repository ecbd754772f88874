using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class MailboxSend : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "DestroyedAt",
                table: "MailMessages",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "DestroyedReason",
                table: "MailMessages",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "ExpiresAt",
                table: "MailMessages",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Folder",
                table: "MailMessages",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "MaxViews",
                table: "MailMessages",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Views",
                table: "MailMessages",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateIndex(
                name: "IX_MailMessages_ExpiresAt",
                table: "MailMessages",
                column: "ExpiresAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_MailMessages_ExpiresAt",
                table: "MailMessages");

            migrationBuilder.DropColumn(
                name: "DestroyedAt",
                table: "MailMessages");

            migrationBuilder.DropColumn(
                name: "DestroyedReason",
                table: "MailMessages");

            migrationBuilder.DropColumn(
                name: "ExpiresAt",
                table: "MailMessages");

            migrationBuilder.DropColumn(
                name: "Folder",
                table: "MailMessages");

            migrationBuilder.DropColumn(
                name: "MaxViews",
                table: "MailMessages");

            migrationBuilder.DropColumn(
                name: "Views",
                table: "MailMessages");
        }
    }
}
