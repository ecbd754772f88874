using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Veil.Server.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class DropperfOwnerNameKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "OwnerNameKey",
                table: "Drops",
                type: "character varying(256)",
                unicode: false,
                maxLength: 256,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "OwnerNameKey",
                table: "Drops");
        }
    }
}
