#!/usr/bin/env bash
# Adds one EF Core migration for both providers, with the same name:
#   src/Veil.Server/Migrations/add-migration.sh AddDrops
# It runs the two standard commands (docs/adr/0001-persistence.md):
#   dotnet ef migrations add NAME --project src/Veil.Server --context SqliteVeilDbContext   --output-dir Migrations/Sqlite
#   dotnet ef migrations add NAME --project src/Veil.Server --context PostgresVeilDbContext --output-dir Migrations/Postgres
# Why a script: dotnet ef needs Microsoft.EntityFrameworkCore.Design in the startup project, and on
# this workplace's NuGet mirror that package does not restore (its dependency Mono.TextTemplating is
# missing). So the script fetches the Design assembly alone (PackageDownload: no dependency
# resolution) with the Roslyn version it needs, copies them beside the built Veil.Server.dll, and
# runs dotnet ef with --no-build. The server itself never references the Design package.
set -euo pipefail
name=${1:?usage: add-migration.sh MigrationName}
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"

ef_version=10.0.14
roslyn_version=5.12.0
humanizer_version=2.14.1
composition_version=10.0.11
packages=${NUGET_PACKAGES:-$HOME/.nuget/packages}

fetch=$(mktemp -d)
trap 'rm -rf "$fetch"' EXIT
cat >"$fetch/fetch.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="Microsoft.EntityFrameworkCore.Design" Version="[$ef_version]" />
    <PackageDownload Include="Humanizer.Core" Version="[$humanizer_version]" />
    <PackageDownload Include="Microsoft.CodeAnalysis.CSharp" Version="[$roslyn_version]" />
    <PackageDownload Include="Microsoft.CodeAnalysis.Common" Version="[$roslyn_version]" />
    <PackageDownload Include="Microsoft.CodeAnalysis.Workspaces.Common" Version="[$roslyn_version]" />
    <PackageDownload Include="Microsoft.CodeAnalysis.CSharp.Workspaces" Version="[$roslyn_version]" />
    <PackageDownload Include="System.Composition.AttributedModel" Version="[$composition_version]" />
    <PackageDownload Include="System.Composition.Convention" Version="[$composition_version]" />
    <PackageDownload Include="System.Composition.Hosting" Version="[$composition_version]" />
    <PackageDownload Include="System.Composition.Runtime" Version="[$composition_version]" />
    <PackageDownload Include="System.Composition.TypedParts" Version="[$composition_version]" />
  </ItemGroup>
</Project>
XML
# The fetch project sits outside the repository so Directory.*.props do not apply to it.
dotnet restore "$fetch/fetch.csproj" >/dev/null

dotnet tool restore >/dev/null
# A class library has no runtimeconfig.json; without one the ASP.NET Core shared framework (which
# Veil.Server references) is not loaded when dotnet ef runs it.
dotnet build src/Veil.Server -c Debug -p:GenerateRuntimeConfigurationFiles=true >/dev/null
out=src/Veil.Server/bin/Debug/net10.0
cp "$packages/microsoft.entityframeworkcore.design/$ef_version/lib/net10.0/Microsoft.EntityFrameworkCore.Design.dll" "$out/"
cp "$packages/humanizer.core/$humanizer_version/lib/net6.0/Humanizer.dll" "$out/"
cp "$packages/microsoft.codeanalysis.csharp/$roslyn_version/lib/net10.0/Microsoft.CodeAnalysis.CSharp.dll" "$out/"
cp "$packages/microsoft.codeanalysis.common/$roslyn_version/lib/net10.0/Microsoft.CodeAnalysis.dll" "$out/"
cp "$packages/microsoft.codeanalysis.workspaces.common/$roslyn_version/lib/net10.0/Microsoft.CodeAnalysis.Workspaces.dll" "$out/"
cp "$packages/microsoft.codeanalysis.csharp.workspaces/$roslyn_version/lib/net10.0/Microsoft.CodeAnalysis.CSharp.Workspaces.dll" "$out/"
for part in attributedmodel convention hosting runtime typedparts; do
  cp "$packages"/system.composition.$part/$composition_version/lib/net10.0/System.Composition.*.dll "$out/"
done

dotnet ef migrations add "$name" --no-build --project src/Veil.Server --context SqliteVeilDbContext --output-dir Migrations/Sqlite
dotnet ef migrations add "$name" --no-build --project src/Veil.Server --context PostgresVeilDbContext --output-dir Migrations/Postgres
