using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class KeyTransparency : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "KtEntries",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Subject = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false),
                    Body = table.Column<byte[]>(type: "BLOB", nullable: false),
                    LeafIndex = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_KtEntries", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "KtLogHead",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false),
                    Origin = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    RootHash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    Frontier = table.Column<byte[]>(type: "BLOB", nullable: false),
                    Checkpoint = table.Column<string>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_KtLogHead", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_KtEntries_LeafIndex",
                table: "KtEntries",
                column: "LeafIndex",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_KtEntries_Subject_LeafIndex",
                table: "KtEntries",
                columns: new[] { "Subject", "LeafIndex" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "KtEntries");

            migrationBuilder.DropTable(
                name: "KtLogHead");
        }
    }
}
