using Microsoft.Playwright;

namespace RayOrleans.Tests.Fixtures;

/// <summary>
/// A real browser for the dashboard tests: Debian's chromium (<c>apt-get install chromium</c>; eng/test.sh
/// installs it), headless, driven by Playwright's own driver from its package. Nothing is downloaded: the
/// browser is the system's, and the flags keep it off the network but for the pages it is sent to.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;

    private HeadlessChromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"{ExecutablePath} is missing; eng/test.sh installs it (apt-get install chromium).");
        }

        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
            });
            return new HeadlessChromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Closing the browser ends its processes; disposing Playwright ends its driver process.
        await Browser.CloseAsync();
        _playwright.Dispose();
    }
}
