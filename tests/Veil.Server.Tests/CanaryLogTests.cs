using System.Net.Http.Json;
using System.Text;
using Veil.Server.Platform.Keys;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests;

/// <summary>
/// DESIGN.md principle 5: run the real server with canary values flowing through configuration and
/// requests, capture every log entry at Trace (messages, values, scopes, exceptions) and find none.
/// </summary>
public sealed class CanaryLogTests
{
    private const string Email = "canary.person@canary-mail.example";
    private const string Token = "CanaryTok3nQ7xZ9wV2mK";
    private const string Plaintext = "canary plaintext: the eagle lands at dawn";

    [Fact]
    public async Task CanaryValues_NeverReachTheLogs()
    {
        var keyMaterial = Enumerable.Range(0, 32).Select(i => (byte)(0xC0 + i)).ToArray();
        var key = Convert.ToBase64String(keyMaterial);
        await using var server = await VeilTestServer.StartAsync(o =>
        {
            o.MapEndpoints = TestEndpoints.Map;
            o.Settings["Veil:Production"] = "true";
            o.Settings["Veil:PublicOrigin"] = "https://veil.test";
            foreach (var name in ServerKeys.Names)
            {
                o.Settings[$"Veil:Keys:{name}"] = name == "field" ? key : Convert.ToBase64String(new byte[32].Select((_, i) => (byte)(i + name.Length)).ToArray());
            }
        });

        using (await server.Client.PostAsJsonAsync("/test/notify", new NotifyRequest(Email, "Subject " + Plaintext, Plaintext)))
        using (await server.Client.GetAsync(new Uri($"/test/token/{Token}?email={Uri.EscapeDataString(Email)}&t={Token}", UriKind.Relative)))
        using (await server.Client.GetAsync(new Uri($"/no-such-route/{Token}?q={Token}", UriKind.Relative)))
        using (await server.Client.GetAsync(new Uri($"/test/throw/{Token}", UriKind.Relative)))
        using (var malformed = new StringContent("{\"text\": \"" + Plaintext + "\" " + Email, Encoding.UTF8, "application/json"))
        using (await server.Client.PostAsync(new Uri("/test/echo", UriKind.Relative), malformed))
        {
        }

        var logs = server.Logs.AllText;
        Assert.Contains("[1200]", logs, StringComparison.Ordinal); // requests were logged: the scan saw real output
        Assert.Contains("[1300]", logs, StringComparison.Ordinal); // and the unhandled exception
        Assert.DoesNotContain(Email, logs, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("canary-mail", logs, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Token, logs, StringComparison.Ordinal);
        Assert.DoesNotContain("eagle lands", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(key, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(keyMaterial), logs, StringComparison.OrdinalIgnoreCase);
    }
}
