// `veil mail domain add|check|list`: a user's own mail domains. `add` prints the records to publish; `check` looks
// them up and prints, per record, what is wrong and how to fix it (exit 1 until the domain is verified).
using System.CommandLine;
using Veil.Cli.Account;
using Veil.Client.Mailbox;

namespace Veil.Cli.Mailbox;

internal static class MailDomainCommand
{
    /// <summary>The <c>veil mail domain</c> subcommands, added to the <c>veil mail</c> verb beside the mailbox's own.</summary>
    public static Command Create(AccountOptions options)
    {
        var domain = new Command("domain", "Your own mail domains, verified by DNS");
        domain.Subcommands.Add(Add(options));
        domain.Subcommands.Add(Check(options));
        domain.Subcommands.Add(List(options));
        return domain;
    }

    private static Command Add(AccountOptions options)
    {
        var name = new Argument<string>("DOMAIN") { Description = "The domain, e.g. example.com" };
        var command = new Command("add", "Claim a domain and print the DNS records to publish") { name };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var added = await new MailDomainClient(client).AddAsync(cli.Parse(name)!, ct);
                cli.Output.Table(
                    ["Check", "Type", "Name", "Value"],
                    added.Records.Select(r => new[] { r.Check, r.Type, r.Name, r.Value }),
                    "",
                    new { @event = "domain-added", domain = added });
                if (!cli.Json)
                {
                    cli.Output.Event($"Publish these records, then run: veil mail domain check {added.Domain}", 0);
                }
            }

            return VeilCommand.Ok;
        });
    }

    private static Command Check(AccountOptions options)
    {
        var name = new Argument<string>("DOMAIN") { Description = "The domain or its id" };
        var command = new Command("check", "Look up the domain's DNS records now and say what to fix") { name };
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var domains = new MailDomainClient(client);
                var wanted = cli.Parse(name)!.Trim().TrimEnd('.');
                var domain = (await domains.ListAsync(ct)).FirstOrDefault(d =>
                    d.Domain.Equals(wanted, StringComparison.OrdinalIgnoreCase) || d.Id.ToString("D").Equals(wanted, StringComparison.OrdinalIgnoreCase));
                if (domain is null)
                {
                    cli.Output.Error($"No domain {wanted} on this account: veil mail domain list");
                    return VeilCommand.Failed;
                }

                var result = await domains.CheckAsync(domain.Id, ct);
                cli.Output.Table(
                    ["Check", "Status", "Fix"],
                    result.Checks.Select(c => new[] { c.Check, c.Status, c.Fix ?? "" }),
                    "",
                    new { @event = "domain-checked", result });
                if (!cli.Json)
                {
                    cli.Output.Event(result.Domain.Verified
                        ? $"{result.Domain.Domain} is verified."
                        : result.Conclusive ? $"{result.Domain.Domain} is not verified yet." : "A DNS lookup failed; nothing changed. Try again later.", 0);
                }

                return result.Domain.Verified ? VeilCommand.Ok : VeilCommand.Failed;
            }
        });
    }

    private static Command List(AccountOptions options)
    {
        var command = new Command("list", "List your domains");
        return AccountCli.Verb(command, options, async (cli, ct) =>
        {
            var (client, _) = cli.OpenSession();
            using (client)
            {
                var domains = await new MailDomainClient(client).ListAsync(ct);
                cli.Output.Table(
                    ["Domain", "State", "Checked", "Id"],
                    domains.Select(d => new[] { d.Domain, d.Verified ? "verified" : "unverified", AccountCommand.Time(d.CheckedAt), d.Id.ToString("D") }),
                    "No domains yet: veil mail domain add DOMAIN",
                    new { domains });
            }

            return VeilCommand.Ok;
        });
    }
}
