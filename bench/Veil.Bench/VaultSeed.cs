// `Veil.Bench --vault-seed ORIGIN DATA_DIR N` (bench/web.sh, issue 16 (b)): makes an account through the C# client on
// a running `veil serve`, confirms it with the link from DATA_DIR/outbox, creates one vault and adds N items, then
// prints the account, password and vault id for the browser part. The items look like a person's: a title, a
// username and a hidden password field, a URL, a note and a tag.
using System.Text.RegularExpressions;
using Veil.Client;
using Veil.Client.Vault;

namespace Veil.Bench;

internal static partial class VaultSeed
{
    public const string Password = "bench vault: quartz lantern 8472 meadow";

    public static async Task<int> RunAsync(string origin, string dataDirectory, int count)
    {
        var email = $"bench-{Guid.NewGuid():N}@example.org";
        using var client = new VeilClient(new Uri(origin));
        await client.Identity.RegisterAsync(email, Password.AsMemory());
        var link = await VerificationLinkAsync(Path.Combine(dataDirectory, "outbox"), email);
        await client.Identity.VerifyEmailAsync(link);
        await client.Identity.LoginAsync(email, Password.AsMemory());
        using var vaults = VaultClient.ForSignedIn(client);
        var vault = await vaults.CreateVaultAsync("Bench vault");
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, token) =>
        {
            var draft = new VaultItemDraft(
                $"Site {i:D5}", $"Notes for site {i}: security question answers live here.", [i % 2 == 0 ? "work" : "home"],
                [new VaultField("login.username", $"user{i}@example.org"), new VaultField("login.password", $"pw-{i}-{Guid.NewGuid():N}"), new VaultField("login.uri", $"https://site{i}.example")]);
            await vaults.AddItemAsync(vault.Id, draft, token);
        });
        Console.Error.WriteLine($"seeded {count} items in {System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s");
        Console.WriteLine($"SEED_EMAIL={email}");
        Console.WriteLine($"SEED_VAULT={vault.Id}");
        return 0;
    }

    private static async Task<string> VerificationLinkAsync(string outbox, string email)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            foreach (var file in Directory.Exists(outbox) ? Directory.GetFiles(outbox, "*.eml") : [])
            {
                var text = await File.ReadAllTextAsync(file);
                if (text.Contains(email, StringComparison.OrdinalIgnoreCase) && LinkPattern().Match(text) is { Success: true } match)
                {
                    return match.Value;
                }
            }

            await Task.Delay(100); // the outbox is written by the request that registered; this only covers the rename
        }

        throw new InvalidOperationException("No verification mail for the bench account in " + outbox);
    }

    [GeneratedRegex(@"https?://\S+/verify-email#[A-Za-z0-9_-]+")]
    private static partial Regex LinkPattern();
}
