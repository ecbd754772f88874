using System.Text;
using Veil.Mail.Mime;

namespace Veil.Mail.Tests.Mime;

public sealed class MimeUnitTests
{
    private static MimeMessage Parse(string text, MimeLimits? limits = null) => MimeMessage.Parse(Encoding.UTF8.GetBytes(text), limits);

    [Theory]
    [InlineData("=?UTF-8?B?44GT44KT44Gr44Gh44Gv?=", "こんにちは")]
    [InlineData("=?iso-8859-1?Q?Caf=E9_cr=E8me?=", "Café crème")]
    [InlineData("=?utf-8?q?a?= =?utf-8?q?b?=", "ab")]
    [InlineData("Re: =?windows-1252?Q?=93quoted=94?= text", "Re: \u201Cquoted\u201D text")]
    [InlineData("=?utf-8?B?4pma?= =?utf-8?B?IHg=?=", "♚ x")]
    [InlineData("=?utf-8?Q?Hello_?=world", "Hello world")]
    [InlineData("=?unknown-cs?Q?x?=", "=?unknown-cs?Q?x?=")]
    public void EncodedWords_Decode_GivesText(string encoded, string expected) => Assert.Equal(expected, EncodedWords.Decode(encoded));

    [Fact]
    public void EncodedWords_SplitMultiByteCharacterAcrossWords_IsJoined()
    {
        // "é" = C3 A9 split over two words of the same charset.
        Assert.Equal("é", EncodedWords.Decode("=?utf-8?Q?=C3?= =?utf-8?Q?=A9?="));
    }

    [Fact]
    public void EncodeHeaderField_NonAscii_RoundTripsAndFoldsAt78()
    {
        var subject = string.Concat(Enumerable.Repeat("Grüße aus Köln — ", 8));

        var field = EncodedWords.EncodeHeaderField("Subject", subject);

        Assert.All(field.Split("\r\n"), line => Assert.InRange(line.Length, 1, 78));
        Assert.Equal(subject.TrimEnd(), EncodedWords.Decode(field["Subject: ".Length..].Replace("\r\n", string.Empty, StringComparison.Ordinal)).TrimEnd());
    }

    [Fact]
    public void Rfc2231_ContinuationsWithCharset_AreJoinedAndDecoded()
    {
        var value = "attachment; filename*0*=utf-8''na%C3%AFve%20; filename*1*=r%C3%A9sum%C3%A9; filename*2=\".pdf\"";

        var disposition = MimeParameterizedValue.ParseDisposition(value);

        Assert.Equal("attachment", disposition.Value);
        Assert.Equal("naïve résumé.pdf", disposition["filename"]);
    }

    [Fact]
    public void ContentType_QuotedParameterWithEncodedWord_IsDecoded()
    {
        var type = MimeParameterizedValue.ParseContentType("application/pdf; name=\"=?utf-8?B?w6kucGRm?=\"", "text/plain");

        Assert.Equal("application/pdf", type.Value);
        Assert.Equal("é.pdf", type["name"]);
    }

    [Fact]
    public void QuotedPrintable_SoftBreaksAndTrailingSpace_Decode()
    {
        var decoded = TransferEncodingCodec.DecodeQuotedPrintable("ab=\r\ncd=\nef =  \r\ng=3D=3d  \r\nh=ZZ"u8, out var clean);

        Assert.Equal("abcdef g==\r\nh=ZZ", Encoding.ASCII.GetString(decoded));
        Assert.False(clean);
    }

    [Fact]
    public void QuotedPrintable_EncodeThenDecode_RoundTripsWithShortLines()
    {
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("naïve = façade\t ", 20)) + "\r\nend \r\n");

        var encoded = TransferEncodingCodec.EncodeQuotedPrintable(text);

        Assert.All(Encoding.ASCII.GetString(encoded).Split("\r\n"), l => Assert.InRange(l.Length, 0, 76));
        Assert.Equal(text, TransferEncodingCodec.DecodeQuotedPrintable(encoded, out _));
    }

    [Fact]
    public void Base64_WithGarbage_SkipsItAndReportsUnclean()
    {
        var decoded = TransferEncodingCodec.DecodeBase64("aGVs!!bG8g\r\nd29y*bGQ= ignored?"u8, out var clean);

        Assert.StartsWith("hello world", Encoding.ASCII.GetString(decoded), StringComparison.Ordinal);
        Assert.False(clean);
    }

    [Fact]
    public void Parse_DeepNesting_StopsAtDepthLimitWithDefect()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < 200; i++)
        {
            sb.Append("Content-Type: multipart/mixed; boundary=b").Append(i).Append("\r\n\r\n--b").Append(i).Append("\r\n");
        }

        sb.Append("\r\nleaf\r\n");
        var source = Encoding.ASCII.GetBytes(sb.ToString());

        var message = MimeMessage.Parse(source, new MimeLimits { MaxDepth = 10 });

        Assert.Contains(message.Defects, d => d.Kind == MimeDefectKind.DepthLimitExceeded);
        Assert.InRange(message.Root.DescendantsAndSelf().Count(), 1, 12);
        Assert.Equal(source, new MimeRewriter(message).ToArray());
    }

    [Fact]
    public void Parse_HeaderBomb_KeepsAtMostTheLimitAndWritesBackIdentical()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < 50_000; i++)
        {
            sb.Append("X-Bomb: ").Append(i).Append("\r\n");
        }

        sb.Append("Subject: ").Append('x', 200_000).Append("\r\n\r\nbody\r\n");
        var source = Encoding.ASCII.GetBytes(sb.ToString());

        var message = MimeMessage.Parse(source, new MimeLimits { MaxHeaderCount = 100, MaxHeaderLineLength = 1000 });

        Assert.Equal(100, message.Root.Headers.Count);
        Assert.Contains(message.Defects, d => d.Kind == MimeDefectKind.HeaderCountLimitExceeded);
        Assert.Equal("body\r\n", Encoding.ASCII.GetString(message.Root.RawBody.Span));
        Assert.Equal(source, new MimeRewriter(message).ToArray());
    }

    [Fact]
    public void Parse_LongHeaderField_IsTruncatedWithDefect()
    {
        var message = Parse("Subject: " + new string('y', 5000) + "\r\n\r\nbody", new MimeLimits { MaxHeaderLineLength = 100 });

        Assert.Contains(message.Defects, d => d.Kind == MimeDefectKind.HeaderLineTooLong);
        Assert.True(message.Root.GetHeader("subject")!.Value.Length <= 100);
    }

    [Fact]
    public void Parse_TooManyParts_StopsWithDefect()
    {
        var sb = new StringBuilder("Content-Type: multipart/mixed; boundary=x\r\n\r\n");
        for (var i = 0; i < 500; i++)
        {
            sb.Append("--x\r\n\r\npart ").Append(i).Append("\r\n");
        }

        sb.Append("--x--\r\n");

        var message = Parse(sb.ToString(), new MimeLimits { MaxParts = 50 });

        Assert.Equal(49, message.Root.Children.Count);
        Assert.Contains(message.Defects, d => d.Kind == MimeDefectKind.PartLimitExceeded);
        Assert.Equal(Encoding.ASCII.GetBytes(sb.ToString()), new MimeRewriter(message).ToArray());
    }

    [Fact]
    public void Parse_BogusTransferEncoding_IsEightBitWithDefect()
    {
        var message = Parse("Content-Transfer-Encoding: 8 bit\r\n\r\nhé");

        Assert.Equal(MimeTransferEncoding.EightBit, message.Root.TransferEncoding);
        Assert.Contains(message.Defects, d => d.Kind == MimeDefectKind.InvalidTransferEncoding);
        Assert.Equal("hé", message.Root.GetText());
    }

    [Theory]
    [InlineData("windows-1252", new byte[] { 0x93, 0x41, 0x94 }, "\u201CA\u201D")]
    [InlineData("iso-8859-2", new byte[] { 0xB1 }, "ą")]
    [InlineData("euc-jp", new byte[] { 0xA4, 0xA2 }, "あ")]
    [InlineData("utf-7", new byte[] { 0x48, 0x69, 0x20, 0x2B, 0x41, 0x4B, 0x45, 0x2D }, "Hi ¡")]
    public void Charsets_Decode(string charset, byte[] bytes, string expected) => Assert.Equal(expected, MimeCharsets.Decode(bytes, charset, out _));

    [Fact]
    public void Rewriter_SetHeader_ChangesOnlyThatField()
    {
        var source = "From: a@example.org\r\nSubject: old\r\nX-Keep:  spaced\r\n\r\nbody\r\n";
        var message = Parse(source);
        var rewriter = new MimeRewriter(message);

        rewriter.SetHeader(message.Root, "Subject", "Grüße");
        var written = Encoding.ASCII.GetString(rewriter.ToArray());

        Assert.Equal("From: a@example.org\r\nSubject: =?utf-8?B?R3LDvMOfZQ==?=\r\nX-Keep:  spaced\r\n\r\nbody\r\n", written);
    }

    [Fact]
    public void Rewriter_ReplaceText_InBase64Part_LeavesOtherPartsIdentical()
    {
        var source = "Content-Type: multipart/alternative; boundary=zz\r\n\r\npreamble\r\n--zz\r\nContent-Type: text/plain\r\n\r\nplain  text \r\n--zz\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+aGk8L3A+\r\n--zz--\r\nepilogue\r\n";
        var message = Parse(source);
        var html = message.Root.Children[1];
        var rewriter = new MimeRewriter(message);

        rewriter.ReplaceText(html, "<p>bye</p>");
        var reparsed = MimeMessage.Parse(rewriter.ToArray());

        Assert.Equal("<p>bye</p>", reparsed.Root.Children[1].GetText());
        Assert.Equal(message.Root.Children[0].Raw.ToArray(), reparsed.Root.Children[0].Raw.ToArray());
        Assert.StartsWith(source[..source.IndexOf("PHA+", StringComparison.Ordinal)], Encoding.ASCII.GetString(rewriter.ToArray()), StringComparison.Ordinal);
        Assert.EndsWith("\r\n--zz--\r\nepilogue\r\n", Encoding.ASCII.GetString(rewriter.ToArray()), StringComparison.Ordinal);
    }

    [Fact]
    public void Builder_TextAndHtml_BuildsAlternativeThatParsesBack()
    {
        var builder = new MimeMessageBuilder { Text = "Grüße\nzweite Zeile", Html = "<p>Grüße</p>", BoundarySeed = "t" }
            .AddHeader("From", "Jörg <j@example.org>")
            .AddHeader("Subject", "Grüße aus Köln")
            .AddAttachment("résumé.pdf", "application/pdf", [1, 2, 3]);

        var message = MimeMessage.Parse(builder.Build());
        var structure = message.GetBodyStructure();

        Assert.Empty(message.Defects);
        Assert.Equal("Grüße aus Köln", message.Root.GetHeader("Subject")!.DecodedValue);
        Assert.Equal("Jörg <j@example.org>", message.Root.GetHeader("From")!.DecodedValue);
        Assert.Equal("Grüße\r\nzweite Zeile", Assert.Single(structure.TextBody).GetText());
        Assert.Equal("<p>Grüße</p>", Assert.Single(structure.HtmlBody).GetText());
        var attachment = Assert.Single(structure.Attachments);
        Assert.Equal("résumé.pdf", attachment.FileName);
        Assert.Equal(new byte[] { 1, 2, 3 }, attachment.DecodeContent());
    }
}
