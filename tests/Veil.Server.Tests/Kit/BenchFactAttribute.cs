namespace Veil.Server.Tests.Kit;

/// <summary>
/// A benchmark driven through the test kit (real Kestrel, real database, real sockets). It asserts only that the run
/// completed and prints its numbers; it takes minutes, so it runs only when VEIL_BENCH=1 (bench/chat-relay.sh sets it).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BenchFactAttribute : FactAttribute
{
    public BenchFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("VEIL_BENCH") != "1")
        {
            Skip = "A benchmark: run it with bench/chat-relay.sh (VEIL_BENCH=1).";
        }
    }
}

/// <summary>A benchmark with cases (see <see cref="BenchFactAttribute"/>): runs only when VEIL_BENCH=1.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BenchTheoryAttribute : TheoryAttribute
{
    public BenchTheoryAttribute()
    {
        if (Environment.GetEnvironmentVariable("VEIL_BENCH") != "1")
        {
            Skip = "A benchmark: run it with VEIL_BENCH=1.";
        }
    }
}
