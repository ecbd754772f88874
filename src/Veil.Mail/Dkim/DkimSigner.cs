// DKIM signing (RFC 6376 §5, RFC 8463): relaxed/relaxed, rsa-sha256 or ed25519-sha256, t= from the
// injected clock. The signed header list is the default below, restricted to fields present, with
// From oversigned (listed once more than present) so no second From can be added after signing.
// The field is folded to lines of at most 78 characters; b= is computed over the same text with an
// empty b=, so the verifier's "delete the b= value" gives back exactly what was signed.
using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Veil.Mail.Dkim;

/// <summary>What a <see cref="DkimSigner"/> signs as.</summary>
public sealed record DkimSignerOptions
{
    /// <summary>The header fields signed by default, when present.</summary>
    public static IReadOnlyList<string> DefaultSignedHeaders { get; } =
    [
        "From", "Reply-To", "Sender", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "List-Unsubscribe", "List-Unsubscribe-Post",
    ];

    /// <summary>The signing domain (d=).</summary>
    public required string Domain { get; init; }

    /// <summary>The selector (s=).</summary>
    public required string Selector { get; init; }

    /// <summary>The fields to sign, when present.</summary>
    public IReadOnlyList<string> SignedHeaders { get; init; } = DefaultSignedHeaders;

    /// <summary>Fields listed once more than present, so adding one breaks the signature.</summary>
    public IReadOnlyList<string> OversignedHeaders { get; init; } = ["From"];

    /// <summary>When set, x= is t= plus this lifetime.</summary>
    public TimeSpan? Lifetime { get; init; }
}

/// <summary>Signs messages with DKIM for one domain and selector.</summary>
public sealed class DkimSigner
{
    private const int LineLimit = 78;
    private readonly DkimSignerOptions _options;
    private readonly DkimSigningKey _key;
    private readonly TimeProvider _time;

    /// <summary>Creates a signer; the key stays owned by the caller.</summary>
    /// <exception cref="ArgumentException">The domain or selector is not a valid DNS name.</exception>
    public DkimSigner(DkimSignerOptions options, DkimSigningKey key, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(time);
        if (!DkimSignatureField.IsDomainName(options.Domain))
        {
            throw new ArgumentException("The DKIM domain is not a valid domain name.", nameof(options));
        }

        if (!DkimSignatureField.IsSelector(options.Selector))
        {
            throw new ArgumentException("The DKIM selector is not a valid selector.", nameof(options));
        }

        _options = options;
        _key = key;
        _time = time;
    }

    /// <summary>Returns the message with a DKIM-Signature field prepended.</summary>
    /// <param name="message">The raw message with CRLF line endings.</param>
    /// <exception cref="ArgumentException">The header section exceeds Veil's limits.</exception>
    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        var field = CreateSignatureField(message);
        var signed = new byte[field.Length + message.Length];
        field.CopyTo(signed, 0);
        message.CopyTo(signed.AsSpan(field.Length));
        return signed;
    }

    /// <summary>Returns the DKIM-Signature field (name, value and final CRLF) for <paramref name="message"/>.</summary>
    /// <param name="message">The raw message with CRLF line endings.</param>
    /// <exception cref="ArgumentException">The header section exceeds Veil's limits.</exception>
    public byte[] CreateSignatureField(ReadOnlySpan<byte> message)
    {
        if (!DkimMessage.TryParse(message.ToArray(), out var parsed))
        {
            throw new ArgumentException("The message's header section exceeds the DKIM limits.", nameof(message));
        }

        var canonicalBody = new ArrayBufferWriter<byte>(parsed.Body.Length + 2);
        DkimCanonicalizer.WriteBody(DkimCanonicalization.Relaxed, parsed.Body.Span, canonicalBody);
        var bodyHash = SHA256.HashData(canonicalBody.WrittenSpan);

        var names = SelectHeaders(parsed.Fields);
        long now = _time.GetUtcNow().ToUnixTimeSeconds();

        var text = new FieldBuilder("DKIM-Signature:");
        text.Append("v=1;");
        text.Append($"a={_key.AlgorithmTag};");
        text.Append("c=relaxed/relaxed;");
        text.Append($"d={_options.Domain};");
        text.Append($"s={_options.Selector};");
        text.Append(string.Create(CultureInfo.InvariantCulture, $"t={now};"));
        if (_options.Lifetime is { } lifetime)
        {
            text.Append(string.Create(CultureInfo.InvariantCulture, $"x={now + (long)lifetime.TotalSeconds};"));
        }

        text.AppendList("h=", names, ":", ";");
        text.Append($"bh={Convert.ToBase64String(bodyHash)};");
        text.Append("b=");

        var withEmptyB = Encoding.ASCII.GetBytes(text.ToString() + "\r\n");
        var hashInput = DkimSignatureField.BuildHeaderHashInput(parsed.Fields, names, DkimCanonicalization.Relaxed, withEmptyB);
        var signature = _key.SignHeaderHashInput(hashInput);

        text.AppendContinuous(Convert.ToBase64String(signature));
        return Encoding.ASCII.GetBytes(text.ToString() + "\r\n");
    }

    /// <summary>The h= list: each configured field once per occurrence, oversigned fields once more.</summary>
    private List<string> SelectHeaders(IReadOnlyList<DkimHeaderField> fields)
    {
        var names = new List<string>();
        foreach (var name in _options.SignedHeaders)
        {
            int count = fields.Count(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (_options.OversignedHeaders.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                count++;
            }

            for (int i = 0; i < count; i++)
            {
                names.Add(name.ToLowerInvariant());
            }
        }

        if (!names.Contains("from"))
        {
            throw new ArgumentException("DKIM requires From among the signed header fields.", nameof(fields));
        }

        return names;
    }

    /// <summary>Folds tag=value tokens into lines of at most <see cref="LineLimit"/> characters.</summary>
    private sealed class FieldBuilder(string start)
    {
        private readonly StringBuilder _text = new(start);
        private int _lineLength = start.Length;

        public void Append(string token)
        {
            if (_lineLength + 1 + token.Length > LineLimit)
            {
                _text.Append("\r\n\t");
                _lineLength = 1;
            }
            else
            {
                _text.Append(' ');
                _lineLength++;
            }

            _text.Append(token);
            _lineLength += token.Length;
        }

        /// <summary>Appends a tag whose list items may be folded after each separator (FWS is allowed there).</summary>
        public void AppendList(string tag, List<string> items, string separator, string end)
        {
            Append(tag + items[0] + (items.Count == 1 ? end : separator));
            for (int i = 1; i < items.Count; i++)
            {
                var token = items[i] + (i == items.Count - 1 ? end : separator);
                if (_lineLength + token.Length > LineLimit)
                {
                    _text.Append("\r\n\t");
                    _lineLength = 1;
                }

                _text.Append(token);
                _lineLength += token.Length;
            }
        }

        /// <summary>Appends base64 right after the current text, folding anywhere (FWS is allowed inside b=).</summary>
        public void AppendContinuous(string value)
        {
            int pos = 0;
            while (pos < value.Length)
            {
                int room = LineLimit - _lineLength;
                if (room <= 0)
                {
                    _text.Append("\r\n\t");
                    _lineLength = 1;
                    continue;
                }

                int take = Math.Min(room, value.Length - pos);
                _text.Append(value, pos, take);
                _lineLength += take;
                pos += take;
            }
        }

        public override string ToString() => _text.ToString();
    }
}
