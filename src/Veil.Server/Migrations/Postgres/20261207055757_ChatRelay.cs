using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ChatRelay : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ChatAccounts",
                columns: table => new
                {
                    AccountId = table.Column<Guid>(type: "uuid", nullable: false),
                    AccountKey = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    AccessKeyHash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChatAccounts", x => x.AccountId);
                });

            migrationBuilder.CreateTable(
                name: "ChatAudit",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    AccountId = table.Column<Guid>(type: "uuid", nullable: false),
                    Event = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    DeviceId = table.Column<int>(type: "integer", nullable: false),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChatAudit", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ChatConversations",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    PairHash = table.Column<byte[]>(type: "bytea", maxLength: 34, nullable: false),
                    ParticipantLow = table.Column<Guid>(type: "uuid", nullable: true),
                    ParticipantHigh = table.Column<Guid>(type: "uuid", nullable: true),
                    LastActivityAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Hashed = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChatConversations", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ChatDevices",
                columns: table => new
                {
                    AccountId = table.Column<Guid>(type: "uuid", nullable: false),
                    DeviceId = table.Column<int>(type: "integer", nullable: false),
                    RegistrationId = table.Column<int>(type: "integer", nullable: false),
                    SigningKey = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    IdentityKey = table.Column<byte[]>(type: "bytea", maxLength: 33, nullable: false),
                    Certificate = table.Column<byte[]>(type: "bytea", maxLength: 64, nullable: false),
                    SignedPreKeyId = table.Column<int>(type: "integer", nullable: false),
                    SignedPreKey = table.Column<byte[]>(type: "bytea", maxLength: 33, nullable: false),
                    SignedPreKeySignature = table.Column<byte[]>(type: "bytea", maxLength: 64, nullable: false),
                    LastSequence = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastSeenAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ActivityCoarse = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChatDevices", x => new { x.AccountId, x.DeviceId });
                });

            migrationBuilder.CreateTable(
                name: "ChatMailbox",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    AccountId = table.Column<Guid>(type: "uuid", nullable: false),
                    DeviceId = table.Column<int>(type: "integer", nullable: false),
                    Sequence = table.Column<long>(type: "bigint", nullable: false),
                    MessageId = table.Column<Guid>(type: "uuid", nullable: false),
                    SenderAccountId = table.Column<Guid>(type: "uuid", nullable: true),
                    SenderDeviceId = table.Column<int>(type: "integer", nullable: true),
                    Sealed = table.Column<bool>(type: "boolean", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Body = table.Column<byte[]>(type: "bytea", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChatMailbox", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ChatOneTimePreKeys",
                columns: table => new
                {
                    AccountId = table.Column<Guid>(type: "uuid", nullable: false),
                    DeviceId = table.Column<int>(type: "integer", nullable: false),
                    KeyId = table.Column<long>(type: "bigint", nullable: false),
                    PublicKey = table.Column<byte[]>(type: "bytea", maxLength: 33, nullable: false),
                    ClaimedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChatOneTimePreKeys", x => new { x.AccountId, x.DeviceId, x.KeyId });
                });

            migrationBuilder.CreateIndex(
                name: "IX_ChatAudit_AccountId",
                table: "ChatAudit",
                column: "AccountId");

            migrationBuilder.CreateIndex(
                name: "IX_ChatAudit_At",
                table: "ChatAudit",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_ChatConversations_Hashed_LastActivityAt",
                table: "ChatConversations",
                columns: new[] { "Hashed", "LastActivityAt" });

            migrationBuilder.CreateIndex(
                name: "IX_ChatConversations_PairHash",
                table: "ChatConversations",
                column: "PairHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ChatDevices_ActivityCoarse_LastSeenAt",
                table: "ChatDevices",
                columns: new[] { "ActivityCoarse", "LastSeenAt" });

            migrationBuilder.CreateIndex(
                name: "IX_ChatMailbox_AccountId_DeviceId_MessageId",
                table: "ChatMailbox",
                columns: new[] { "AccountId", "DeviceId", "MessageId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ChatMailbox_AccountId_DeviceId_Sequence",
                table: "ChatMailbox",
                columns: new[] { "AccountId", "DeviceId", "Sequence" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ChatMailbox_CreatedAt",
                table: "ChatMailbox",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_ChatOneTimePreKeys_ClaimedAt",
                table: "ChatOneTimePreKeys",
                column: "ClaimedAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ChatAccounts");

            migrationBuilder.DropTable(
                name: "ChatAudit");

            migrationBuilder.DropTable(
                name: "ChatConversations");

            migrationBuilder.DropTable(
                name: "ChatDevices");

            migrationBuilder.DropTable(
                name: "ChatMailbox");

            migrationBuilder.DropTable(
                name: "ChatOneTimePreKeys");
        }
    }
}
