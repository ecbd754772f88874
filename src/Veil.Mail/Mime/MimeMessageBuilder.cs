// Builds a new message: header fields RFC 2047-encoded and folded at 78 columns, a text/plain and/or text/html
// body (multipart/alternative when both; RFC 2046 §5.1.4), optional base64 attachments (multipart/mixed).
// Text is UTF-8, quoted-printable unless it is plain short-lined ASCII. Line endings are CRLF.
using System.Security.Cryptography;
using System.Text;

namespace Veil.Mail.Mime;

/// <summary>Builds a new MIME message.</summary>
public sealed class MimeMessageBuilder
{
    private const string Eol = "\r\n";
    private readonly List<(string Name, string Value)> _headers = [];
    private readonly List<(string FileName, string MediaType, byte[] Content)> _attachments = [];

    /// <summary>The plain-text body, or null.</summary>
    public string? Text { get; set; }

    /// <summary>The HTML body, or null.</summary>
    public string? Html { get; set; }

    /// <summary>Boundary prefix source; random when null (set it for reproducible output in tests).</summary>
    public string? BoundarySeed { get; set; }

    /// <summary>Adds a header field (Unicode value; encoded and folded on output). MIME-Version and Content-* are written by the builder.</summary>
    /// <param name="name">Field name.</param>
    /// <param name="value">Field value.</param>
    public MimeMessageBuilder AddHeader(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        if (name.Any(c => c <= ' ' || c >= 127 || c == ':'))
        {
            throw new ArgumentException("A header field name is printable ASCII without ':'.", nameof(name));
        }

        _headers.Add((name, value));
        return this;
    }

    /// <summary>Adds a base64 attachment.</summary>
    /// <param name="fileName">File name (RFC 2231-encoded when not ASCII).</param>
    /// <param name="mediaType">Media type, e.g. "application/pdf".</param>
    /// <param name="content">The bytes.</param>
    public MimeMessageBuilder AddAttachment(string fileName, string mediaType, byte[] content)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentException.ThrowIfNullOrEmpty(mediaType);
        ArgumentNullException.ThrowIfNull(content);
        _attachments.Add((fileName, mediaType, content));
        return this;
    }

    /// <summary>Writes the message.</summary>
    public byte[] Build()
    {
        var sb = new StringBuilder();
        foreach (var (name, value) in _headers)
        {
            sb.Append(EncodedWords.EncodeHeaderField(name, value, Eol)).Append(Eol);
        }

        sb.Append("MIME-Version: 1.0").Append(Eol);
        var counter = 0;
        var body = BuildBody(ref counter);
        sb.Append(body);
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    private string BuildBody(ref int counter)
    {
        var alternatives = new List<string>();
        if (Text is not null || Html is null)
        {
            alternatives.Add(TextPart("text/plain", Text ?? string.Empty));
        }

        if (Html is not null)
        {
            alternatives.Add(TextPart("text/html", Html));
        }

        var main = alternatives.Count == 1 ? alternatives[0] : Multipart("alternative", alternatives, ref counter);
        if (_attachments.Count == 0)
        {
            return main;
        }

        var parts = new List<string> { main };
        foreach (var (fileName, mediaType, content) in _attachments)
        {
            var disposition = MimeParameterizedValue.ParseDisposition("attachment").ToHeaderValue("filename", fileName);
            var type = MimeParameterizedValue.ParseContentType(mediaType, "application/octet-stream").ToHeaderValue("name", fileName);
            parts.Add(
                EncodedWords.EncodeHeaderField("Content-Type", type, Eol) + Eol +
                EncodedWords.EncodeHeaderField("Content-Disposition", disposition, Eol) + Eol +
                "Content-Transfer-Encoding: base64" + Eol + Eol +
                Encoding.ASCII.GetString(TransferEncodingCodec.EncodeBase64(content, Eol)));
        }

        return Multipart("mixed", parts, ref counter);
    }

    private string Multipart(string subtype, List<string> parts, ref int counter)
    {
        var boundary = "=_veil_" + (BoundarySeed ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))) + "_" + counter++;
        var sb = new StringBuilder();
        sb.Append("Content-Type: multipart/").Append(subtype).Append(';').Append(Eol).Append(" boundary=\"").Append(boundary).Append('"').Append(Eol).Append(Eol);
        foreach (var part in parts)
        {
            sb.Append("--").Append(boundary).Append(Eol).Append(part);
            if (!part.EndsWith(Eol, StringComparison.Ordinal))
            {
                sb.Append(Eol);
            }
        }

        sb.Append("--").Append(boundary).Append("--").Append(Eol);
        return sb.ToString();
    }

    private static string TextPart(string mediaType, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var plain = bytes.All(b => b < 128 && b != 0) && text.Split('\n').All(l => l.Length <= 76) && !text.Contains('\r', StringComparison.Ordinal);
        var encoded = plain
            ? text.Replace("\n", Eol, StringComparison.Ordinal)
            : Encoding.ASCII.GetString(TransferEncodingCodec.EncodeQuotedPrintable(bytes, Eol));
        return "Content-Type: " + mediaType + "; charset=utf-8" + Eol +
            "Content-Transfer-Encoding: " + (plain ? "7bit" : "quoted-printable") + Eol + Eol + encoded;
    }
}
