using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class MailboxInitial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "MailAddresses",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    AccountId = table.Column<Guid>(type: "uuid", nullable: false),
                    AddressIndex = table.Column<byte[]>(type: "bytea", nullable: true),
                    WkdIndex = table.Column<byte[]>(type: "bytea", nullable: true),
                    WrappedToken = table.Column<string>(type: "character varying(16384)", maxLength: 16384, nullable: false),
                    WrappedPrivateKey = table.Column<string>(type: "character varying(16384)", maxLength: 16384, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Address = table.Column<byte[]>(type: "bytea", nullable: false),
                    PublicKey = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MailAddresses", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "MailMessages",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    AccountId = table.Column<Guid>(type: "uuid", nullable: false),
                    AddressId = table.Column<Guid>(type: "uuid", nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    SealedSize = table.Column<long>(type: "bigint", nullable: false),
                    ReceivedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ThreadIndex = table.Column<byte[]>(type: "bytea", nullable: true),
                    SealedSummary = table.Column<string>(type: "text", nullable: false),
                    EnvelopeFrom = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MailMessages", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_MailAddresses_AccountId",
                table: "MailAddresses",
                column: "AccountId");

            migrationBuilder.CreateIndex(
                name: "IX_MailAddresses_AddressIndex",
                table: "MailAddresses",
                column: "AddressIndex",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_MailAddresses_WkdIndex",
                table: "MailAddresses",
                column: "WkdIndex");

            migrationBuilder.CreateIndex(
                name: "IX_MailMessages_AccountId_ReceivedAt",
                table: "MailMessages",
                columns: new[] { "AccountId", "ReceivedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_MailMessages_AddressId",
                table: "MailMessages",
                column: "AddressId");

            migrationBuilder.CreateIndex(
                name: "IX_MailMessages_ThreadIndex",
                table: "MailMessages",
                column: "ThreadIndex");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "MailAddresses");

            migrationBuilder.DropTable(
                name: "MailMessages");
        }
    }
}
