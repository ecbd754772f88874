using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Postgres
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
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    UploaderAccountId = table.Column<Guid>(type: "uuid", nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    AttachedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MailAttachmentBlobs", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "MailMessageAttachments",
                columns: table => new
                {
                    MessageId = table.Column<Guid>(type: "uuid", nullable: false),
                    BlobId = table.Column<Guid>(type: "uuid", nullable: false),
                    AccountId = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MailMessageAttachments", x => new { x.MessageId, x.BlobId });
                });

            migrationBuilder.CreateTable(
                name: "MailSearchIndexes",
                columns: table => new
                {
                    AccountId = table.Column<Guid>(type: "uuid", nullable: false),
                    Version = table.Column<long>(type: "bigint", nullable: false),
                    Length = table.Column<long>(type: "bigint", nullable: false),
                    BlobName = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
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
