// One Vault scheduler tick, timed, as the number of switches grows (docs/PERFORMANCE.md, "Vault scheduler").
//
// For each total (default 10 000, 100 000, 1 000 000) a fresh SQLite database is migrated by the real
// server code, then Vaults + VaultSwitches rows are bulk-inserted directly (one transaction, prepared
// statements): every switch armed, its NextActionAt spread over the next 30 days, so none is due.
// Measured with the real VaultScheduler.TickAsync in a fresh DI scope, as the job runner calls it:
//   - idle: 0 due, median of 21 ticks;
//   - due D (default 100 and 1000): D switches set due (NextActionAt in the past, deadline passed), one
//     tick sends each its reminder (no owner account exists, so the outbox is not written: the DB work
//     alone is timed); median of 5, the D rows reset before each run.
// It also prints SQLite's query plan for the due query, which must be an index search.
// Usage: dotnet run -c Release --project bench/Veil.VaultBench -- [totals,comma-separated] [due,comma-separated]
using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Veil.Server;
using Veil.Server.Platform.Persistence;
using Veil.Server.Vault;

var totals = (args.Length > 0 ? args[0] : "10000,100000,1000000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var dues = (args.Length > 1 ? args[1] : "100,1000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
var now = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
var clock = new FixedClock(now);
Console.WriteLine("| switches | insert (s) | db size (MiB) | tick, 0 due (ms) | " + string.Join(" | ", dues.Select(d => $"tick, {d} due (ms) | per due switch (ms)")) + " |");
Console.WriteLine("|---:|---:|---:|---:|" + string.Concat(dues.Select(_ => "---:|---:|")));
string? plan = null;
foreach (var total in totals)
{
    var dir = Path.Combine(Path.GetTempPath(), "veil-vaultbench-" + Guid.NewGuid().ToString("N"));
    Directory.CreateDirectory(dir);
    try
    {
        var setup = new VeilServerSetup { EnvironmentName = "Benchmark", TimeProvider = clock, ConfigureLogging = l => l.ClearProviders() };
        setup.Settings["Veil:DataDirectory"] = dir;
        setup.Settings["urls"] = "http://127.0.0.1:0";
        await using var app = VeilServer.Build(setup);
        await app.Services.MigrateVeilDatabaseAsync(CancellationToken.None);
        var dbPath = Path.Combine(dir, "veil.db");
        var insert = Stopwatch.StartNew();
        BulkInsert(dbPath, total, now);
        insert.Stop();
        plan ??= QueryPlan(dbPath, now);
        var scheduler = app.Services.GetRequiredService<VaultScheduler>();
        var scopes = app.Services.GetRequiredService<IServiceScopeFactory>();

        async Task<double> TickAsync(int expect)
        {
            await using var scope = scopes.CreateAsyncScope();
            var watch = Stopwatch.StartNew();
            var acted = await scheduler.TickAsync(scope.ServiceProvider, CancellationToken.None);
            watch.Stop();
            if (acted != expect)
            {
                throw new InvalidOperationException($"tick acted on {acted}, expected {expect}");
            }

            return watch.Elapsed.TotalMilliseconds;
        }

        for (var i = 0; i < 3; i++)
        {
            await TickAsync(0); // warm-up: JIT, EF model, connection pool
        }

        var idle = Median(await Repeat(21, () => TickAsync(0)));
        var cells = new List<string>();
        foreach (var due in dues)
        {
            var runs = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                MakeDue(dbPath, due, now);
                runs.Add(await TickAsync(due));
            }

            var median = Median(runs);
            cells.Add($"{median:F1} | {median / due:F2}");
        }

        var size = new FileInfo(dbPath).Length / (1024.0 * 1024);
        Console.WriteLine($"| {total:N0} | {insert.Elapsed.TotalSeconds:F1} | {size:F0} | {idle:F2} | {string.Join(" | ", cells)} |");
    }
    finally
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dir, recursive: true);
    }
}

Console.WriteLine();
Console.WriteLine("SQLite plan of the due query: " + plan);

static async Task<List<double>> Repeat(int n, Func<Task<double>> run)
{
    var list = new List<double>();
    for (var i = 0; i < n; i++)
    {
        list.Add(await run());
    }

    return list;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}

static long Micros(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

static void BulkInsert(string dbPath, int total, DateTimeOffset now)
{
    using var connection = new SqliteConnection($"Data Source={dbPath}");
    connection.Open();
    using var tx = connection.BeginTransaction();
    using var vault = connection.CreateCommand();
    vault.Transaction = tx;
    vault.CommandText = "INSERT INTO \"Vaults\" (\"Id\", \"OwnerId\", \"Name\", \"WrappedKey\", \"Size\", \"CreatedAt\") VALUES ($id, $owner, $ct, $ct, 100, $at)";
    var vId = vault.Parameters.Add("$id", SqliteType.Text);
    var vOwner = vault.Parameters.Add("$owner", SqliteType.Text);
    vault.Parameters.AddWithValue("$ct", "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    vault.Parameters.AddWithValue("$at", Micros(now));
    using var sw = connection.CreateCommand();
    sw.Transaction = tx;
    sw.CommandText = "INSERT INTO \"VaultSwitches\" (\"VaultId\", \"State\", \"IntervalSeconds\", \"GraceSeconds\", \"LastCheckInAt\", \"Generation\", \"RemindersSent\", \"NextActionAt\", \"Version\") "
        + "VALUES ($id, 'Armed', $interval, 604800, $last, 1, 0, $next, 1)";
    var sId = sw.Parameters.Add("$id", SqliteType.Text);
    var sInterval = sw.Parameters.Add("$interval", SqliteType.Integer);
    var sLast = sw.Parameters.Add("$last", SqliteType.Integer);
    var sNext = sw.Parameters.Add("$next", SqliteType.Integer);
    var random = new Random(42);
    for (var i = 0; i < total; i++)
    {
        var id = Guid.NewGuid().ToString("D");
        vId.Value = id;
        vOwner.Value = Guid.NewGuid().ToString("D").ToUpperInvariant();
        vault.ExecuteNonQuery();

        // Armed, last check-in within the past 30 days, deadline (= next action) 1..30 days ahead.
        var interval = 30 * 86400;
        var last = now.AddSeconds(-random.Next(0, interval - 86400) - 1);
        sId.Value = id;
        sInterval.Value = interval;
        sLast.Value = Micros(last);
        sNext.Value = Micros(last.AddSeconds(interval));
        sw.ExecuteNonQuery();
    }

    tx.Commit();
    using var analyze = connection.CreateCommand();
    analyze.CommandText = "ANALYZE";
    analyze.ExecuteNonQuery();
}

// D switches become due: their deadline passed a minute ago, no reminder sent yet.
static void MakeDue(string dbPath, int due, DateTimeOffset now)
{
    using var connection = new SqliteConnection($"Data Source={dbPath}");
    connection.Open();
    using var reset = connection.CreateCommand();
    reset.CommandText = "UPDATE \"VaultSwitches\" SET \"State\" = 'Armed', \"RemindersSent\" = 0, \"IntervalSeconds\" = 86400, "
        + "\"LastCheckInAt\" = $last, \"NextActionAt\" = $next WHERE \"VaultId\" IN (SELECT \"VaultId\" FROM \"VaultSwitches\" ORDER BY \"VaultId\" LIMIT $n)";
    reset.Parameters.AddWithValue("$last", Micros(now.AddSeconds(-86400 - 60)));
    reset.Parameters.AddWithValue("$next", Micros(now.AddSeconds(-60)));
    reset.Parameters.AddWithValue("$n", due);
    reset.ExecuteNonQuery();
}

static string QueryPlan(string dbPath, DateTimeOffset now)
{
    using var connection = new SqliteConnection($"Data Source={dbPath}");
    connection.Open();
    using var explain = connection.CreateCommand();
    explain.CommandText = "EXPLAIN QUERY PLAN SELECT * FROM \"VaultSwitches\" WHERE \"NextActionAt\" IS NOT NULL AND \"NextActionAt\" <= $now ORDER BY \"NextActionAt\" LIMIT 500";
    explain.Parameters.AddWithValue("$now", Micros(now));
    using var reader = explain.ExecuteReader();
    var lines = new List<string>();
    while (reader.Read())
    {
        lines.Add(reader.GetString(3));
    }

    return string.Join("; ", lines);
}

internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
