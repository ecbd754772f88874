using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class MailboxSend : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "DestroyedAt",
                table: "MailMessages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "DestroyedReason",
                table: "MailMessages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ExpiresAt",
                table: "MailMessages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Folder",
                table: "MailMessages",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "MaxViews",
                table: "MailMessages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Views",
                table: "MailMessages",
                type: "INTEGER",
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
