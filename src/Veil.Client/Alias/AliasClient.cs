// The SDK side of spec/alias-api.md: domains, recipients (real mailboxes), aliases, contacts and the routing
// log. Every call needs the client's credentials (session or API key) except VerifyRecipientAsync, which
// consumes an emailed link. Failures arrive as VeilApiException with the contract's problem codes.
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

[assembly: SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Scope = "namespace", Target = "~N:Veil.Client.Alias",
    Justification = "The namespace follows the module's name and folder (Alias) like every other Veil module; VB's Alias keyword does not concern this SDK.")]

namespace Veil.Client.Alias;

/// <summary>Private email aliases (spec/alias-api.md).</summary>
/// <param name="client">The signed-in client (session or API key).</param>
public sealed class AliasClient(VeilClient client)
{
    private const string Base = "api/v1/alias/";

    private readonly VeilClient _client = client ?? throw new ArgumentNullException(nameof(client));

    /// <summary>The alias domains the server offers.</summary>
    public async Task<IReadOnlyList<AliasDomain>> GetDomainsAsync(CancellationToken cancellationToken = default) =>
        (await Get<DomainsResponse>("domains", cancellationToken).ConfigureAwait(false)).Domains;

    /// <summary>Adds a real mailbox; the server mails it a verification link.</summary>
    public Task<AliasRecipient> AddRecipientAsync(string email, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(email);
        return _client.AuthenticatedAsync<AliasRecipient>(HttpMethod.Post, Base + "recipients", new RecipientRequest(email.Trim()), cancellationToken);
    }

    /// <summary>The account's recipients, oldest first.</summary>
    public async Task<IReadOnlyList<AliasRecipient>> ListRecipientsAsync(CancellationToken cancellationToken = default) =>
        (await Get<RecipientsResponse>("recipients", cancellationToken).ConfigureAwait(false)).Recipients;

    /// <summary>Removes a recipient (from every alias too).</summary>
    public Task DeleteRecipientAsync(Guid id, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, Base + "recipients/" + Id(id), null, cancellationToken);

    /// <summary>Resumes a recipient paused by hard bounces.</summary>
    public Task<AliasRecipient> ResumeRecipientAsync(Guid id, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<AliasRecipient>(HttpMethod.Post, Base + "recipients/" + Id(id) + "/resume", null, cancellationToken);

    /// <summary>Sets the recipient's OpenPGP public key: copies forwarded to it are then PGP/MIME encrypted. A key Veil does not accept gives a 400 naming why.</summary>
    public Task<AliasRecipient> SetRecipientPgpKeyAsync(Guid id, string armoredPublicKey, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(armoredPublicKey);
        return _client.AuthenticatedAsync<AliasRecipient>(HttpMethod.Put, Base + "recipients/" + Id(id) + "/pgp", new RecipientPgpRequest(armoredPublicKey), cancellationToken);
    }

    /// <summary>Removes the recipient's OpenPGP key: forwarded copies go out unencrypted again.</summary>
    public Task<AliasRecipient> ClearRecipientPgpKeyAsync(Guid id, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<AliasRecipient>(HttpMethod.Delete, Base + "recipients/" + Id(id) + "/pgp", null, cancellationToken);

    /// <summary>Mails a new verification link to an unverified recipient.</summary>
    public Task ResendVerificationAsync(Guid id, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<NoContent>(HttpMethod.Post, Base + "recipients/" + Id(id) + "/resend", null, cancellationToken);

    /// <summary>Verifies a recipient with the emailed link (<c>…/alias/verify/TOKEN</c>) or its token. Needs no credentials.</summary>
    public async Task VerifyRecipientAsync(string linkOrToken, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(linkOrToken);
        await _client.AnonymousAsync<VerifiedResponse>(HttpMethod.Post, Base + "recipients/verify", new VerifyRecipientRequest(TokenOf(linkOrToken)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates an alias.</summary>
    public Task<AliasInfo> CreateAliasAsync(NewAlias alias, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alias);
        return _client.AuthenticatedAsync<AliasInfo>(HttpMethod.Post, Base + "aliases", alias, cancellationToken);
    }

    /// <summary>The account's aliases, newest first.</summary>
    public async Task<IReadOnlyList<AliasInfo>> ListAliasesAsync(CancellationToken cancellationToken = default) =>
        (await Get<AliasesResponse>("aliases", cancellationToken).ConfigureAwait(false)).Aliases;

    /// <summary>One alias.</summary>
    public Task<AliasInfo> GetAliasAsync(Guid id, CancellationToken cancellationToken = default) =>
        Get<AliasInfo>("aliases/" + Id(id), cancellationToken);

    /// <summary>An alias by id or by address (case-insensitive); null when the account has no such alias.</summary>
    public async Task<AliasInfo?> FindAliasAsync(string idOrAddress, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrAddress);
        if (Guid.TryParse(idOrAddress, out var id))
        {
            try
            {
                return await GetAliasAsync(id, cancellationToken).ConfigureAwait(false);
            }
            catch (VeilApiException e) when (e.Status == 404)
            {
                return null;
            }
        }

        var address = idOrAddress.Trim();
        return (await ListAliasesAsync(cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(a => a.Address.Equals(address, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Changes an alias (null members unchanged).</summary>
    public Task<AliasInfo> UpdateAliasAsync(Guid id, AliasChanges changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        return _client.AuthenticatedAsync<AliasInfo>(HttpMethod.Patch, Base + "aliases/" + Id(id), changes, cancellationToken);
    }

    /// <summary>Deletes an alias; its address is never issued again.</summary>
    public Task DeleteAliasAsync(Guid id, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, Base + "aliases/" + Id(id), null, cancellationToken);

    /// <summary>The contacts (senders) of an alias.</summary>
    public async Task<IReadOnlyList<AliasContact>> ListContactsAsync(Guid aliasId, CancellationToken cancellationToken = default) =>
        (await Get<ContactsResponse>("aliases/" + Id(aliasId) + "/contacts", cancellationToken).ConfigureAwait(false)).Contacts;

    /// <summary>Starts a conversation: the contact for <paramref name="address"/> (created if new); write to its reverse address.</summary>
    public Task<AliasContact> AddContactAsync(Guid aliasId, string address, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        return _client.AuthenticatedAsync<AliasContact>(HttpMethod.Post, Base + "aliases/" + Id(aliasId) + "/contacts", new ContactRequest(address.Trim()), cancellationToken);
    }

    /// <summary>Blocks or unblocks a contact (a blocked contact's mail is counted and dropped).</summary>
    public Task<AliasContact> SetContactBlockedAsync(Guid contactId, bool blocked, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<AliasContact>(HttpMethod.Patch, Base + "contacts/" + Id(contactId), new ContactBlockRequest(blocked), cancellationToken);

    /// <summary>Deletes a contact; its reverse address is revoked for good.</summary>
    public Task DeleteContactAsync(Guid contactId, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<NoContent>(HttpMethod.Delete, Base + "contacts/" + Id(contactId), null, cancellationToken);

    /// <summary>The routing log, newest first (1–500 entries; optionally one alias only).</summary>
    public async Task<IReadOnlyList<AliasLogEntry>> GetLogAsync(int limit = 100, Guid? aliasId = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 500);
        var query = "log?limit=" + limit.ToString(CultureInfo.InvariantCulture) + (aliasId is { } a ? "&aliasId=" + Id(a) : string.Empty);
        return (await Get<LogResponse>(query, cancellationToken).ConfigureAwait(false)).Entries;
    }

    /// <summary>The account's plan, its daily limits and today's usage.</summary>
    public Task<AliasUsage> GetUsageAsync(CancellationToken cancellationToken = default) => Get<AliasUsage>("usage", cancellationToken);

    /// <summary>The token of a verification link (<c>…/alias/verify/TOKEN</c>), or the argument itself.</summary>
    internal static string TokenOf(string linkOrToken)
    {
        var value = linkOrToken.Trim();
        const string Marker = "/alias/verify/";
        var at = value.LastIndexOf(Marker, StringComparison.Ordinal);
        if (at >= 0)
        {
            value = value[(at + Marker.Length)..];
        }

        var end = value.IndexOfAny(['?', '#', '/']);
        return end >= 0 ? value[..end] : value;
    }

    private static string Id(Guid id) => id.ToString("D", CultureInfo.InvariantCulture);

    private Task<T> Get<T>(string path, CancellationToken cancellationToken) =>
        _client.AuthenticatedAsync<T>(HttpMethod.Get, Base + path, null, cancellationToken);
}
