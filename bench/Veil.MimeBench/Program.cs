using BenchmarkDotNet.Running;
using Veil.MimeBench;

// Veil's MIME code against MimeKit 4.18.2 in the same run (ADR 0002, docs/PERFORMANCE.md "MIME: Veil vs MimeKit"):
//   dotnet run -c Release --project bench/Veil.MimeBench -- --filter '*'
// Correctness counts on the MIME corpus (write-back byte-exactness of both libraries):
//   dotnet run -c Release --project bench/Veil.MimeBench -- --corpus
if (args is ["--corpus"])
{
    CorpusCounts.Print();
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
