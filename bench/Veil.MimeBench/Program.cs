using BenchmarkDotNet.Running;

// Veil's MIME code against MimeKit 4.18.2 in the same run (ADR 0002, docs/PERFORMANCE.md "MIME: Veil vs MimeKit"):
// `dotnet run -c Release --project bench/Veil.MimeBench -- --filter '*'`
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
