namespace Veil.E2E.Tests;

/// <summary>
/// A test that needs the system Chromium. Without /usr/bin/chromium it is skipped on a developer's machine and
/// FAILS under CI (CI=true): a browser suite that silently skipped would prove nothing.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (!Browser.IsInstalled && !Browser.IsCi)
        {
            Skip = $"{Browser.ChromiumPath} is missing (apt-get install chromium); under CI this test fails instead.";
        }
    }

    /// <summary>
    /// Skips the test (visibly, with this reason) in the PostgreSQL pass only: for a known defect that is written up in
    /// the reason and in the issue note, never to quiet a test that merely fails.
    /// </summary>
    public string? KnownDefectOnPostgres
    {
        get => null;
        set
        {
            if (value is not null && Environment.GetEnvironmentVariable("VEIL_TEST_DATABASE") == "postgres")
            {
                Skip = "known defect on PostgreSQL: " + value;
            }
        }
    }
}

/// <summary>A theory that needs the system Chromium; skipped or failing exactly like <see cref="ChromiumFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumTheoryAttribute : TheoryAttribute
{
    public ChromiumTheoryAttribute()
    {
        if (!Browser.IsInstalled && !Browser.IsCi)
        {
            Skip = $"{Browser.ChromiumPath} is missing (apt-get install chromium); under CI this test fails instead.";
        }
    }
}
