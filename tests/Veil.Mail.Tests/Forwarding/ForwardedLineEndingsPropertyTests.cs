// Issue 15, point 2: every message the forwarder emits is canonical CRLF whatever part it rewrote, its DKIM signature
// verifies in an independent verifier (dkimpy), and a strict next hop (Veil's own SMTP listener, which refuses bare
// LF with 550 5.6.0) takes it. Inputs: the MIME corpus (tests/vectors/mime) and generated HTML mail with tracking
// pixels in every transfer encoding, with CRLF or bare-LF line endings.
using System.Text;
using CsCheck;
using Veil.Mail.Dkim;
using Veil.Mail.Forwarding;
using Veil.Mail.Mime;
using Veil.Mail.Queue;
using Veil.Mail.Smtp;
using Veil.Mail.Tests.Dkim;
using Veil.Mail.Tests.Mime;
using Veil.Mail.Tests.Smtp;

namespace Veil.Mail.Tests.Forwarding;

public sealed class ForwardedLineEndingsPropertyTests
{
    private static readonly ForwardOptions Options = new("rev.k3jd7@alias.example", new Dictionary<string, string>(StringComparer.Ordinal));

    private static readonly string[] Encodings = ["7bit", "8bit", "quoted-printable", "base64"];

    // Pieces of an HTML body: plain words, markup, non-ASCII text, and tracking pixels the stripper removes.
    private static readonly string[] AsciiPieces =
    [
        "<p>Hello there</p>", "<div style=\"color:#333\">Weekly news</div>", "<a href=\"https://shop.example/x?id=1\">Shop</a>",
        "<img src=\"https://t.example/open.gif\" width=\"1\" height=\"1\">", "<img src=\"https://cdn.example/logo.png\" width=\"120\" height=\"40\">",
        "<img src=\"https://pixel.example/p\" style=\"display:none\">", "  indented text  ", "", "<br>", "<table><tr><td>cell</td></tr></table>",
    ];

    private static readonly string[] WidePieces = ["<p>Les cafés de la semaine</p>", "<p>日本語のニュース</p>", "<b>Grüße</b> und Äpfel"];

    /// <summary>A generated message: HTML with at least one tracking pixel, alone or beside a text part and an attachment.</summary>
    private static readonly Gen<byte[]> Messages =
        Gen.Select(
            Gen.OneOf("\r\n", "\n"),
            Gen.Int[0, 2],
            Gen.OneOf(Encodings),
            Gen.Int[0, AsciiPieces.Length + WidePieces.Length - 1].List[1, 40],
            Gen.Int[0, 3])
        .Select((eol, shape, encoding, pieces, pixelAt) => Build(eol, shape, encoding, pieces, pixelAt));

    [Fact]
    public void Forward_GeneratedHtmlWithPixels_OutputHasNoBareCrOrLf()
    {
        Messages.Sample(message =>
        {
            var forwarded = AliasForwarder.Forward(message, Options);

            Assert.False(forwarded.Trackers.IsEmpty, "the generated pixel was not removed, so the rewrite path was not exercised");
            Assert.True(LineEndings.IsCanonical(forwarded.Message), "bare CR or LF in the forwarded message");
        }, iter: 500, print: m => Encoding.UTF8.GetString(m));
    }

    [Fact]
    public async Task Forward_GeneratedHtmlWithPixels_DkimpyVerifiesAndVeilSmtpAccepts()
    {
        var messages = new List<byte[]>();
        Messages.Sample(message =>
        {
            lock (messages)
            {
                messages.Add(message);
            }
        }, iter: 120);

        await AssertSignedVerifiesAndIsAcceptedAsync(messages);
    }

    [Fact]
    public async Task Forward_EveryCorpusMessage_CanonicalDkimpyVerifiesAndVeilSmtpAccepts()
    {
        // As an SMTP client hands them over: the corpus files are stored with the line endings their sources had.
        var messages = MimeCorpus.Messages().Select(name => LineEndings.ToCrlf(MimeCorpus.Bytes(name))).ToList();

        await AssertSignedVerifiesAndIsAcceptedAsync(messages);
    }

    [Fact]
    public void Forward_CorpusMessageWithBareLineFeeds_OutputIsCanonical()
    {
        foreach (var name in MimeCorpus.Messages())
        {
            var forwarded = AliasForwarder.Forward(MimeCorpus.Bytes(name), Options).Message;

            Assert.True(LineEndings.IsCanonical(forwarded), $"{name}: bare CR or LF in the forwarded message");
        }
    }

    [Fact]
    public void Forward_SevenBitHtmlPixel_RewrittenPartUsesCrlf()
    {
        // The case the issue found: a 7bit HTML part with a pixel came out of the HTML serialiser with bare LFs.
        var message = Encoding.ASCII.GetBytes(
            "From: News <news@shop.example>\r\nTo: a@alias.example\r\nSubject: hi\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: text/html; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
            + "<html>\r\n<body>\r\n<p>Hello</p>\r\n<img src=\"https://t.example/o.gif\" width=\"1\" height=\"1\">\r\n</body>\r\n</html>\r\n");

        var forwarded = AliasForwarder.Forward(message, Options);

        Assert.Single(forwarded.Trackers.Removals);
        Assert.True(LineEndings.IsCanonical(forwarded.Message), Encoding.ASCII.GetString(forwarded.Message));
    }

    [Fact]
    public void ToCrlf_MixedEndings_EveryLineEndsInCrlf()
    {
        var converted = LineEndings.ToCrlf("a\nb\r\nc\rd\r\r\n"u8.ToArray());

        Assert.Equal("a\r\nb\r\nc\r\nd\r\n\r\n", Encoding.ASCII.GetString(converted));
    }

    [Fact]
    public void ToCrlf_AlreadyCanonical_ReturnsSameArray()
    {
        var message = "a\r\nb\r\n"u8.ToArray();

        Assert.Same(message, LineEndings.ToCrlf(message));
    }

    /// <summary>Forwards, DKIM-signs, then checks each result three ways: canonical, dkimpy PASS, Veil's SMTP listener 250.</summary>
    private static async Task AssertSignedVerifiesAndIsAcceptedAsync(IReadOnlyList<byte[]> inputs)
    {
        using var key = DkimSigningKey.GenerateRsa2048();
        var signer = new DkimSigner(new DkimSignerOptions { Domain = "alias.example", Selector = "veil" }, key, new FixedTimeProvider(DateTimeOffset.UtcNow));
        var signed = inputs.Select(m => signer.Sign(AliasForwarder.Forward(m, Options).Message)).ToList();

        var notCanonical = Enumerable.Range(0, signed.Count).Where(i => !LineEndings.IsCanonical(signed[i])).ToList();
        Assert.True(notCanonical.Count == 0, $"{notCanonical.Count} of {signed.Count} not canonical CRLF, first input:\n{Show(inputs, notCanonical)}");

        var verdicts = await Dkimpy.VerifyManyAsync(signed, DkimDnsRecord.For(key));
        // A message whose header block dkimpy cannot read (a corpus message with a line that is no field) is judged
        // by no verifier; allowed only when the input already had that defect, which forwarding keeps byte for byte.
        var unreadable = await Dkimpy.VerifyManyAsync(inputs, string.Empty);
        var failed = Enumerable.Range(0, signed.Count).Where(i => verdicts[i] != "PASS" && !(verdicts[i] == "MALFORMED" && unreadable[i] == "MALFORMED")).ToList();
        Assert.True(failed.Count == 0, $"dkimpy failed {failed.Count} of {signed.Count}, first input:\n{Show(inputs, failed)}");

        await using var host = SmtpTestHost.Start(o => o.MaxMessageSize = 64 * 1024 * 1024);
        var client = new SmtpDeliveryClient(new SmtpClientOptions { Host = "127.0.0.1", Port = host.Port, Tls = SmtpTlsMode.None, HeloName = "veil.test" });
        var refused = new List<string>();
        for (var i = 0; i < signed.Count; i++)
        {
            var envelope = new SmtpEnvelope("bounce@alias.example", [SmtpTestHost.Known], EightBitMime: true, SmtpUtf8: true, DateTimeOffset.UnixEpoch);
            var result = await client.DeliverAsync(envelope, new MemoryStream(signed[i]), CancellationToken.None);
            if (!result.Success)
            {
                refused.Add($"#{i}: {result.Reply}");
            }
        }

        Assert.True(refused.Count == 0, $"Veil's SMTP listener refused {refused.Count} of {signed.Count}: {string.Join("; ", refused.Take(3))}");
    }

    private static string Show(IReadOnlyList<byte[]> inputs, List<int> indexes)
    {
        if (indexes.Count == 0)
        {
            return string.Empty;
        }

        var text = Encoding.UTF8.GetString(inputs[indexes[0]]);
        return text.Length > 1500 ? text[..1500] : text;
    }

    private static byte[] Build(string eol, int shape, string encoding, List<int> pieces, int pixelAt)
    {
        var wideAllowed = encoding != "7bit";
        var lines = pieces.Select(p => p < AsciiPieces.Length ? AsciiPieces[p] : wideAllowed ? WidePieces[p - AsciiPieces.Length] : "<p>plain</p>").ToList();
        lines.Insert(Math.Min(pixelAt, lines.Count), "<img src=\"https://t.example/open.gif\" width=\"1\" height=\"1\" alt=\"\">");
        var html = "<html><body>\n" + string.Join("\n", lines) + "\n</body></html>\n";
        var htmlPart = Part("text/html; charset=utf-8", encoding, html, eol);
        var head = "From: News <news@shop.example>" + eol + "To: someone@alias.example" + eol + "Subject: News" + eol
            + "Message-ID: <gen@shop.example>" + eol + "MIME-Version: 1.0" + eol;
        var body = shape switch
        {
            0 => htmlPart,
            1 => Multipart("alternative", "b1", eol, Part("text/plain; charset=utf-8", "8bit", "Weekly news, café edition\n", eol), htmlPart),
            _ => Multipart("mixed", "b0", eol,
                Multipart("alternative", "b1", eol, Part("text/plain; charset=utf-8", "quoted-printable", "Weekly news\n", eol), htmlPart),
                Part("application/pdf; name=\"a.pdf\"", "base64", "%PDF-1.4 not really\n", eol, "Content-Disposition: attachment; filename=\"a.pdf\"" + eol)),
        };

        return Encoding.UTF8.GetBytes(head + body);
    }

    private static string Multipart(string subtype, string boundary, string eol, params string[] parts) =>
        $"Content-Type: multipart/{subtype}; boundary=\"{boundary}\"{eol}{eol}"
        + string.Concat(parts.Select(p => $"--{boundary}{eol}{p}")) + $"--{boundary}--{eol}";

    private static string Part(string contentType, string encoding, string content, string eol, string extra = "")
    {
        var bytes = Encoding.UTF8.GetBytes(content.Replace("\n", eol, StringComparison.Ordinal));
        var encoded = encoding switch
        {
            "base64" => Encoding.ASCII.GetString(TransferEncodingCodec.EncodeBase64(bytes, eol)),
            "quoted-printable" => Encoding.ASCII.GetString(TransferEncodingCodec.EncodeQuotedPrintable(bytes, eol)),
            _ => Encoding.UTF8.GetString(bytes),
        };
        return $"Content-Type: {contentType}{eol}Content-Transfer-Encoding: {encoding}{eol}{extra}{eol}{encoded}";
    }
}
