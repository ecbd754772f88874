using Microsoft.Playwright;

namespace Veil.E2E.Tests;

/// <summary>
/// The system Chromium, launched once for the "Browser" collection through Playwright. Playwright is never allowed
/// to download a browser: it drives /usr/bin/chromium (Debian package `chromium`).
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public static bool IsInstalled => File.Exists(ChromiumPath);

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public IBrowser Chromium { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!IsInstalled)
        {
            // Tests are skipped when not under CI (ChromiumFact); under CI they fail with this message.
            return;
        }

        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        _playwright = await Playwright.CreateAsync();
        Chromium = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>A fresh browser profile (no shared storage) that accepts downloads.</summary>
    public async Task<IBrowserContext> NewContextAsync()
    {
        Assert.True(IsInstalled, $"{ChromiumPath} is missing: install the Debian package chromium (CI must install it).");
        var context = await Chromium.NewContextAsync(new() { AcceptDownloads = true });
        context.SetDefaultTimeout(60_000);
        return context;
    }

    public async Task DisposeAsync()
    {
        if (Chromium is not null)
        {
            await Chromium.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserTests : ICollectionFixture<Browser>
{
    public const string Name = "Browser";
}
