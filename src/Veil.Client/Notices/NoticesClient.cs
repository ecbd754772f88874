// The SDK side of breach notices (spec/identity-api.md "Notices"): what the operator told every account, shown until
// the account marks it as read. Needs the client's credentials (session or API key).
namespace Veil.Client.Notices;

/// <summary>A notice from the server's operator (a breach notification), not yet acknowledged by this account.</summary>
/// <param name="Id">The notice id, to acknowledge it.</param>
/// <param name="Subject">One line.</param>
/// <param name="Body">Plain text as the operator wrote it.</param>
/// <param name="CreatedAt">When it was written.</param>
public sealed record AccountNotice(Guid Id, string Subject, string Body, DateTimeOffset CreatedAt);

/// <summary>Notices for the signed-in account.</summary>
/// <param name="client">The signed-in client (session or API key).</param>
public sealed class NoticesClient(VeilClient client)
{
    private const string Base = "api/v1/account/notices";

    private readonly VeilClient _client = client ?? throw new ArgumentNullException(nameof(client));

    /// <summary>The notices this account has not acknowledged, oldest first.</summary>
    public async Task<IReadOnlyList<AccountNotice>> ListAsync(CancellationToken cancellationToken = default) =>
        (await _client.AuthenticatedAsync<NoticesResponse>(HttpMethod.Get, Base, null, cancellationToken).ConfigureAwait(false)).Notices;

    /// <summary>Marks a notice as read for this account: it is no longer listed. An unknown id is a 404 (<c>not-found</c>).</summary>
    public Task AcknowledgeAsync(Guid id, CancellationToken cancellationToken = default) =>
        _client.AuthenticatedAsync<NoContent>(HttpMethod.Post, $"{Base}/{id:D}/ack", null, cancellationToken);

    private sealed record NoticesResponse(IReadOnlyList<AccountNotice> Notices);
}
