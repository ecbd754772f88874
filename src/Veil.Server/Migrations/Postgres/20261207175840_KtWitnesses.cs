using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class KtWitnesses : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "PublishedCheckpoint",
                table: "KtLogHead",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "PublishedSize",
                table: "KtLogHead",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "PublishedCheckpoint",
                table: "KtLogHead");

            migrationBuilder.DropColumn(
                name: "PublishedSize",
                table: "KtLogHead");
        }
    }
}
