using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Veil.Bench;

// `dotnet run -c Release --project bench/Veil.Bench -- --filter '*Cobblestone*'`
// `dotnet run -c Release --project bench/Veil.Bench -- --alloc` prints allocated bytes per 256 MiB operation.
// `dotnet run -c Release --project bench/Veil.Bench -- --argon2 N` times the C# client's key derivation
// (ClientKeyDerivation.Derive: libargon2 Argon2id, 64 MiB, t=3, p=4, then HKDF) N times after one warm-up and prints
// each time and the median, the reference of bench/web.sh.
// `... -- --vault-seed ORIGIN DATA_DIR N` makes an account with one vault of N items on a running server (VaultSeed.cs).
if (args is ["--alloc"])
{
    var bench = new CobblestoneBenchmarks();
    bench.Setup();
    (long encrypt, long decrypt) = await bench.MeasureAllocationsAsync();
    Console.WriteLine($"Allocated per 256 MiB op: encrypt {encrypt} B, decrypt {decrypt} B");
    return 0;
}

if (args is ["--argon2", var count])
{
    var salt = new byte[16];
    var times = new List<double>();
    for (int i = 0; i <= int.Parse(count, System.Globalization.CultureInfo.InvariantCulture); i++)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        using (Veil.Crypto.Client.ClientKeyDerivation.Derive("correct horse battery staple", "bench@example.org", salt))
        {
        }

        if (i > 0)
        {
            times.Add(System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }

    times.Sort();
    Console.WriteLine($"argon2 runs ms: {string.Join(' ', times.Select(t => t.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}");
    Console.WriteLine($"ARGON2_MEDIAN_MS={times[times.Count / 2].ToString("F1", System.Globalization.CultureInfo.InvariantCulture)}");
    return 0;
}

if (args is ["--vault-seed", var origin, var data, var items])
{
    return await VaultSeed.RunAsync(origin, data, int.Parse(items, System.Globalization.CultureInfo.InvariantCulture));
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, DefaultConfig.Instance);
return 0;
