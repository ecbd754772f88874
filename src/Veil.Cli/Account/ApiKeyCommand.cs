// `veil apikey create|list|revoke`: API keys of the logged-in account. Managing keys needs a session
// (an API key cannot create or delete keys), and creating one needs a recent sign-in (step-up).
using System.CommandLine;

namespace Veil.Cli.Account;

internal static class ApiKeyCommand
{
    public static Command Create(Option<bool> json)
    {
        var options = new AccountOptions(json);
        var apikey = new Command("apikey", "API keys for scripts (Authorization: Bearer ak_…)");
        options.AddTo(apikey);

        var name = new Argument<string>("NAME") { Description = "What the key is for (1 to 100 characters)" };
        var create = new Command("create", "Create a key; it is shown once") { name, options.Code };
        apikey.Subcommands.Add(AccountCli.Verb(create, options, async (cli, ct) =>
        {
            var keyName = cli.Parse(name)!;
            if (keyName.Length is 0 or > 100)
            {
                throw new UsageException("NAME must be 1 to 100 characters");
            }

            var (client, _) = cli.OpenSession();
            using (client)
            {
                var key = await cli.WithStepUpAsync(client, () => client.Identity.CreateApiKeyAsync(keyName, ct), ct);
                cli.Output.Event(
                    $"API key '{key.Name}' ({key.Id:D}) — shown once, store it now:{Environment.NewLine}{key.Key}",
                    new { @event = "apikey-created", id = key.Id, name = key.Name, key = key.Key, createdAt = key.CreatedAt });
            }

            return VeilCommand.Ok;
        }));

        var list = new Command("list", "List your API keys (never their values)");
        apikey.Subcommands.Add(AccountCli.Verb(list, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var keys = await client.Identity.ListApiKeysAsync(ct);
                cli.Output.Table(
                    ["Id", "Name", "Created", "Last used"],
                    keys.Select(k => new[] { k.Id.ToString("D"), k.Name, AccountCommand.Time(k.CreatedAt), AccountCommand.Time(k.LastUsedAt) }),
                    "No API keys.",
                    keys);
            }

            return VeilCommand.Ok;
        }));

        var id = new Argument<Guid>("ID") { Description = "The key id (from 'veil apikey list')" };
        var revoke = new Command("revoke", "Revoke a key; it stops working on the next request") { id };
        apikey.Subcommands.Add(AccountCli.Verb(revoke, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var keyId = cli.Parse(id);
                await client.Identity.RevokeApiKeyAsync(keyId, ct);
                cli.Output.Event($"API key {keyId:D} revoked.", new { @event = "apikey-revoked", id = keyId });
            }

            return VeilCommand.Ok;
        }));
        return apikey;
    }
}
