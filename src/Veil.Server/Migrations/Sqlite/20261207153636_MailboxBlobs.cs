using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class MailboxBlobs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "MailAttachmentBlobs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    UploaderAccountId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    AttachedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MailAttachmentBlobs", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "MailMessageAttachments",
                columns: table => new
                {
                    MessageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    BlobId = table.Column<Guid>(type: "TEXT", nullable: false),
                    AccountId = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MailMessageAttachments", x => new { x.MessageId, x.BlobId });
                });

            migrationBuilder.CreateTable(
                name: "MailSearchIndexes",
                columns: table => new
                {
                    AccountId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Version = table.Column<long>(type: "INTEGER", nullable: false),
                    Length = table.Column<long>(type: "INTEGER", nullable: false),
                    BlobName = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MailSearchIndexes", x => x.AccountId);
                });

            migrationBuilder.CreateIndex(
                name: "IX_MailAttachmentBlobs_AttachedAt_CreatedAt",
                table: "MailAttachmentBlobs",
                columns: new[] { "AttachedAt", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_MailAttachmentBlobs_UploaderAccountId",
                table: "MailAttachmentBlobs",
                column: "UploaderAccountId");

            migrationBuilder.CreateIndex(
                name: "IX_MailMessageAttachments_AccountId_BlobId",
                table: "MailMessageAttachments",
                columns: new[] { "AccountId", "BlobId" });

            migrationBuilder.CreateIndex(
                name: "IX_MailMessageAttachments_BlobId",
                table: "MailMessageAttachments",
                column: "BlobId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "MailAttachmentBlobs");

            migrationBuilder.DropTable(
                name: "MailMessageAttachments");

            migrationBuilder.DropTable(
                name: "MailSearchIndexes");
        }
    }
}
