using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Veil.Bench;

// `dotnet run -c Release --project bench/Veil.Bench -- --filter '*Cobblestone*'`
// `dotnet run -c Release --project bench/Veil.Bench -- --alloc` prints allocated bytes per 256 MiB operation.
if (args is ["--alloc"])
{
    var bench = new CobblestoneBenchmarks();
    bench.Setup();
    (long encrypt, long decrypt) = await bench.MeasureAllocationsAsync();
    Console.WriteLine($"Allocated per 256 MiB op: encrypt {encrypt} B, decrypt {decrypt} B");
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, DefaultConfig.Instance);
return 0;
