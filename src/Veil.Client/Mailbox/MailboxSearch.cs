// The encrypted search index (issue 17, point 7; spec/mailbox-api.md "Search index", spec/keys.md "Mail search
// index key"). The server cannot search mail it cannot read, so the client keeps an index of its own: the words of
// each message's subject, sender, recipients, body text and attachment names, mapped to message ids, sealed with a
// key only the account's user key yields, and stored on the server as one opaque blob that is replaced whole.
//
//   key    = HKDF-SHA256(IKM = user key, salt = empty, info = "veil/v1/mail/search-index", L = 32)
//   stored = 0x01 || nonce(24) || XChaCha20-Poly1305(key, nonce, UTF-8 JSON of the index, aad = "veil/v1/mail/search-index")
//
// Updating lists the mailbox (inbox and sent): ids no longer listed or gone (deleted, expired, viewed out) leave
// the index, new ones are read and tokenised. Copies with a view limit are indexed from their summary only (reading
// the body would spend a view). Writes carry the version read (If-Match) and on 412 the client fetches the newer
// index, re-applies its own changes to it and writes again, so two writers lose nothing.
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Veil.Crypto.Primitives;

namespace Veil.Client.Mailbox;

public sealed partial class MailboxClient
{
    /// <summary>The first byte of a stored index (the format version).</summary>
    public const byte SearchIndexFormatV1 = 0x01;

    private const string SearchIndexLabel = "veil/v1/mail/search-index";
    private const int MaxTokenLength = 64;
    private const int MaxWriteAttempts = 8;

    /// <summary>Brings the stored search index up to date with the mailbox and returns how many messages it covers.</summary>
    public async Task<int> UpdateSearchIndexAsync(CancellationToken cancellationToken = default)
    {
        var (index, _) = await UpdateAsync(cancellationToken).ConfigureAwait(false);
        return index.Indexed.Count;
    }

    /// <summary>
    /// Messages whose subject, sender, recipients, body or attachment names hold every word of <paramref name="query"/>
    /// (a word matches a word that starts with it, case-insensitively). Updates the index first.
    /// </summary>
    public async Task<IReadOnlyList<MailListItem>> SearchAsync(string query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var words = Tokenize(query).ToList();
        if (words.Count == 0)
        {
            throw new MailboxKeyException("give at least one word to search for (letters or digits)");
        }

        var (index, listed) = await UpdateAsync(cancellationToken).ConfigureAwait(false);
        HashSet<string>? hits = null;
        foreach (var word in words)
        {
            var matching = index.Terms.Where(t => t.Key.StartsWith(word, StringComparison.Ordinal)).SelectMany(t => t.Value).ToHashSet(StringComparer.Ordinal);
            hits = hits is null ? matching : [.. hits.Intersect(matching, StringComparer.Ordinal)];
        }

        return [.. listed.Where(m => hits!.Contains(m.Id.ToString("D")))];
    }

    private async Task<(SearchIndexBody Index, List<MailListItem> Listed)> UpdateAsync(CancellationToken cancellationToken)
    {
        var listed = new List<MailListItem>();
        foreach (var folder in (string[])["inbox", "sent"])
        {
            listed.AddRange(await ListAllAsync(folder, cancellationToken).ConfigureAwait(false));
        }

        var live = listed.Where(m => m.Gone is null).ToDictionary(m => m.Id.ToString("D"), StringComparer.Ordinal);
        var (index, version) = await FetchSearchIndexAsync(cancellationToken).ConfigureAwait(false);

        // The changes this client makes, kept so they can be applied again to a newer index after a 412.
        var removed = index.Indexed.Where(id => !live.ContainsKey(id)).ToHashSet(StringComparer.Ordinal);
        var added = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (id, message) in live)
        {
            if (!index.Indexed.Contains(id))
            {
                added[id] = await TokensOfAsync(message, cancellationToken).ConfigureAwait(false);
            }
        }

        for (var attempt = 1; ; attempt++)
        {
            if (removed.Count == 0 && added.Count == 0 && version is not null)
            {
                return (index, listed);
            }

            Apply(index, removed, added);
            var written = await TryWriteSearchIndexAsync(index, version, cancellationToken).ConfigureAwait(false);
            if (written is not null)
            {
                return (index, listed);
            }

            if (attempt == MaxWriteAttempts)
            {
                throw new MailboxKeyException("the search index kept changing under this update (another device writing); try again");
            }

            // Another writer won: start from its index and apply this client's changes again.
            (index, version) = await FetchSearchIndexAsync(cancellationToken).ConfigureAwait(false);
            removed.RemoveWhere(id => !index.Indexed.Contains(id));
            foreach (var id in added.Keys.Where(index.Indexed.Contains).ToList())
            {
                added.Remove(id);
            }
        }
    }

    private static void Apply(SearchIndexBody index, HashSet<string> removed, Dictionary<string, HashSet<string>> added)
    {
        if (removed.Count > 0)
        {
            foreach (var term in index.Terms.Keys.ToList())
            {
                var ids = index.Terms[term];
                ids.RemoveAll(removed.Contains);
                if (ids.Count == 0)
                {
                    index.Terms.Remove(term);
                }
            }

            index.Indexed.ExceptWith(removed);
        }

        foreach (var (id, tokens) in added)
        {
            foreach (var token in tokens)
            {
                if (!index.Terms.TryGetValue(token, out var ids))
                {
                    index.Terms[token] = ids = [];
                }

                if (!ids.Contains(id, StringComparer.Ordinal))
                {
                    ids.Add(id);
                }
            }

            index.Indexed.Add(id);
        }
    }

    private async Task<HashSet<string>> TokensOfAsync(MailListItem message, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        if (message.Summary is { } summary)
        {
            text.Append(summary.From).Append(' ').Append(summary.Subject).Append(' ').AppendJoin(' ', summary.Attachments).Append(' ').AppendJoin(' ', summary.To ?? []);
        }

        text.Append(' ').Append(message.EnvelopeFrom);
        if (message.MaxViews is null)
        {
            var read = await ReadAsync(message.Id, cancellationToken).ConfigureAwait(false);
            text.Append(' ').Append(read.Text ?? read.Html ?? "");
            text.Append(' ').AppendJoin(' ', read.Attachments.Select(a => a.FileName)).Append(' ').AppendJoin(' ', read.LargeAttachments.Select(a => a.FileName));
            foreach (var header in read.Headers.Where(h => h.Key is "Subject" or "From" or "To" or "Cc"))
            {
                text.Append(' ').Append(header.Value);
            }
        }

        return [.. Tokenize(text.ToString())];
    }

    /// <summary>Lowercased runs of letters and digits (2 to 64 characters); a file name also gives its whole lowercased form.</summary>
    internal static IEnumerable<string> Tokenize(string text)
    {
        var current = new StringBuilder();
        foreach (var c in text.Normalize(NormalizationForm.FormKC))
        {
            if (char.IsLetterOrDigit(c))
            {
                current.Append(char.ToLowerInvariant(c));
                continue;
            }

            if (current.Length is >= 2 and <= MaxTokenLength)
            {
                yield return current.ToString();
            }

            current.Clear();
        }

        if (current.Length is >= 2 and <= MaxTokenLength)
        {
            yield return current.ToString();
        }
    }

    private async Task<List<MailListItem>> ListAllAsync(string folder, CancellationToken cancellationToken)
    {
        var all = new List<MailListItem>();
        DateTimeOffset? before = null;
        while (true)
        {
            var path = $"{Base}/messages?limit=500&folder={folder}" + (before is { } b ? "&before=" + Uri.EscapeDataString(b.ToString("O", CultureInfo.InvariantCulture)) : "");
            var page = await _client.AuthenticatedAsync<List<SealedMessageInfo>>(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false);
            foreach (var message in page)
            {
                var address = await AddressAsync(message.AddressId, cancellationToken).ConfigureAwait(false);
                var summary = message.Gone is null && message.Summary.Length > 0 ? OpenSummary(address, message.Summary) : null;
                all.Add(new MailListItem(message.Id, address.Address, message.EnvelopeFrom, message.Size, message.ReceivedAt, message.ThreadId, summary,
                    message.Folder, message.ExpiresAt, message.MaxViews, message.Views, message.Gone));
            }

            if (page.Count < 500)
            {
                return all;
            }

            before = page[^1].ReceivedAt;
        }
    }

    private async Task<(SearchIndexBody Index, string? Version)> FetchSearchIndexAsync(CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _client.AuthenticatedSendAsync(
                () => new HttpRequestMessage(HttpMethod.Get, $"{Base}/search-index"), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (VeilApiException e) when (e.Code == "search-index-not-found")
        {
            return (new SearchIndexBody(), null);
        }

        using (response)
        {
            var sealedIndex = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            var plaintext = OpenSearchIndex(sealedIndex) ?? throw new MailboxKeyException("the stored search index does not open with this account's key (tampered?)");
            try
            {
                var index = JsonSerializer.Deserialize<SearchIndexBody>(plaintext, Json) ?? throw new MailboxKeyException("the stored search index is empty");
                return (index, response.Headers.ETag?.Tag);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plaintext);
            }
        }
    }

    /// <summary>Writes the index; null when another writer changed it first (412).</summary>
    private async Task<string?> TryWriteSearchIndexAsync(SearchIndexBody index, string? version, CancellationToken cancellationToken)
    {
        var plaintext = JsonSerializer.SerializeToUtf8Bytes(index, Json);
        byte[] sealedIndex;
        try
        {
            sealedIndex = SealSearchIndex(plaintext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }

        try
        {
            using var response = await _client.AuthenticatedSendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Put, $"{Base}/search-index") { Content = new ByteArrayContent(sealedIndex) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                if (version is null)
                {
                    request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Any);
                }
                else
                {
                    request.Headers.IfMatch.Add(new EntityTagHeaderValue(version));
                }

                return request;
            }, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            return response.Headers.ETag?.Tag ?? "";
        }
        catch (VeilApiException e) when (e.Status == (int)HttpStatusCode.PreconditionFailed)
        {
            return null;
        }
    }

    /// <summary>Seals an index for storage (the format in the file header).</summary>
    internal byte[] SealSearchIndex(ReadOnlySpan<byte> plaintext)
    {
        Span<byte> key = stackalloc byte[32];
        try
        {
            DeriveSearchIndexKey(key);
            var sealedIndex = new byte[1 + XChaCha20Poly1305.NonceSize + plaintext.Length + SodiumAead.TagLength];
            sealedIndex[0] = SearchIndexFormatV1;
            var nonce = sealedIndex.AsSpan(1, XChaCha20Poly1305.NonceSize);
            CryptoRandom.Fill(nonce);
            using var aead = new XChaCha20Poly1305(key);
            aead.Encrypt(nonce, plaintext, sealedIndex.AsSpan(1 + XChaCha20Poly1305.NonceSize), Encoding.ASCII.GetBytes(SearchIndexLabel));
            return sealedIndex;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The index's plaintext, or null when it is not a v1 index sealed with this account's key.</summary>
    internal byte[]? OpenSearchIndex(ReadOnlySpan<byte> sealedIndex)
    {
        if (sealedIndex.Length < 1 + XChaCha20Poly1305.NonceSize + SodiumAead.TagLength || sealedIndex[0] != SearchIndexFormatV1)
        {
            return null;
        }

        Span<byte> key = stackalloc byte[32];
        try
        {
            DeriveSearchIndexKey(key);
            using var aead = new XChaCha20Poly1305(key);
            return aead.Decrypt(sealedIndex.Slice(1, XChaCha20Poly1305.NonceSize), sealedIndex[(1 + XChaCha20Poly1305.NonceSize)..], Encoding.ASCII.GetBytes(SearchIndexLabel));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private void DeriveSearchIndexKey(Span<byte> key)
    {
        var userKey = _userKey ?? throw new InvalidOperationException("The account's user key is not open.");
        using var lease = userKey.Acquire();
        Hkdf.DeriveSha256(lease.Span, [], Encoding.ASCII.GetBytes(SearchIndexLabel), key);
    }

    /// <summary>The index as sealed: which messages it covers and, per word, the ids of the messages holding it.</summary>
    internal sealed class SearchIndexBody
    {
        public int V { get; set; } = 1;

        public HashSet<string> Indexed { get; set; } = new(StringComparer.Ordinal);

        public Dictionary<string, List<string>> Terms { get; set; } = new(StringComparer.Ordinal);
    }
}
