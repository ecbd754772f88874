using System.Text;
using Veil.Mail.Dkim;
using Veil.Mail.Forwarding;
using Veil.Mail.Mime;
using Veil.Mail.Tests.Dkim;
using Veil.Mail.Tests.Mime;

namespace Veil.Mail.Tests.Forwarding;

public sealed class AliasForwarderTests
{
    private const string Reverse = "rev.k3jd7@alias.example";

    private static readonly ForwardOptions Options = new(Reverse, new Dictionary<string, string>
    {
        ["help@shop.example"] = "rev.help9@alias.example",
        ["jürgen@exämple.de"] = "rev.jm2@alias.example",
    });

    // A newsletter: text and HTML alternatives (the HTML with a 1×1 open pixel and a pixel from a tracking host),
    // a PDF attachment, threading and unsubscribe headers, and the sender's DKIM signature.
    private static readonly byte[] Newsletter = TestFiles.Crlf("""
        DKIM-Signature: v=1; a=rsa-sha256; d=shop.example; s=s1; h=from:to:subject;
         bh=AAAA; b=BBBB
        ARC-Seal: i=1; a=rsa-sha256; cv=none; d=relay.example; s=arc; b=CCCC
        Received: from mx.shop.example by mx.alias.example; Sun, 22 Nov 2026 10:00:00 +0000
        From: =?utf-8?Q?Caf=C3=A9_Shop?= <News@Shop.Example>
        Reply-To: Help Desk <Help@Shop.Example>, other@shop.example
        To: amber.river42@alias.example
        Subject: =?utf-8?Q?Les_caf=C3=A9s_de_la_semaine?=
        Date: Sun, 22 Nov 2026 09:59:58 +0000
        Message-ID: <news-42@shop.example>
        In-Reply-To: <news-41@shop.example>
        References: <news-40@shop.example>
         <news-41@shop.example>
        List-Unsubscribe: <mailto:unsub@shop.example?subject=unsub>,
         <https://shop.example/unsub?u=42>
        X-Veil-Trackers-Removed: 0; forged.example
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="outer"

        --outer
        Content-Type: multipart/alternative; boundary="alt"

        --alt
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: quoted-printable

        Les caf=C3=A9s de la semaine.  =20
        Trailing spaces and =3D signs stay exactly as sent.

        --alt
        Content-Type: text/html; charset=utf-8
        Content-Transfer-Encoding: quoted-printable

        <html><body><p>Les caf=C3=A9s</p><img src=3D"https://shop.example/hero.jpg" =
        width=3D"600" height=3D"200"><img src=3D"https://t.shop.example/open.gif" width=
        =3D"1" height=3D"1"><img src=3D"https://example.list-manage.com/track/open.php?u=
        =3D1"></body></html>
        --alt--

        --outer
        Content-Type: application/pdf; name="menu.pdf"
        Content-Disposition: attachment; filename="menu.pdf"
        Content-Transfer-Encoding: base64

        JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCkJUCi9G
        MSAxMiBUZgoxMDAgNzAwIFRkCihIZWxsbykgVGoKRVQKZW5kc3RyZWFtCmVuZG9iago=
        --outer--
        """);

    [Fact]
    public void Forward_From_BecomesReverseAliasShowingTheSender()
    {
        var result = Forward(Newsletter);

        var from = Assert.Single(HeaderAddresses.Parse(Header(result, "From")!));
        Assert.Equal(Reverse, from.Address);
        Assert.Equal("Café Shop \u2013 News at Shop.Example", from.DisplayName);
    }

    [Fact]
    public void Forward_From_IsWrittenAsAsciiEncodedWords()
    {
        var result = Forward(Newsletter);

        var line = RawHeader(result, "From");
        Assert.All(line, b => Assert.True(b is >= 9 and < 127, $"non-ASCII byte in {Encoding.UTF8.GetString(line)}"));
        Assert.Contains("=?utf-8?B?", Encoding.ASCII.GetString(line), StringComparison.Ordinal);
        Assert.EndsWith("<" + Reverse + ">", Encoding.ASCII.GetString(line).TrimEnd(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("From: jane@example.com", "jane at example.com")]
    [InlineData("From: <jane@example.com>", "jane at example.com")]
    [InlineData("From: \"jane@example.com\" <jane@example.com>", "jane at example.com")]
    [InlineData("From: \"Doe, Jane\" <jane@example.com>", "Doe, Jane \u2013 jane at example.com")]
    [InlineData("From: =?utf-8?B?5bGx55Sw5aSq6YOO?= <taro@example.jp>", "山田太郎 \u2013 taro at example.jp")]
    [InlineData("From: Jürgen Müller <jürgen@exämple.de>", "Jürgen Müller \u2013 jürgen at exämple.de")]
    [InlineData("From: paypal@paypal.example <evil@attacker.example>", "paypal@paypal.example \u2013 evil at attacker.example")]
    public void Forward_FromDisplayName_ShowsNameAndAddress(string fromLine, string expected)
    {
        var result = Forward(TestFiles.Crlf(fromLine + "\nTo: a@alias.example\nSubject: x\n\nbody\n"));

        var from = Assert.Single(HeaderAddresses.Parse(Header(result, "From")!));
        Assert.Equal(expected, from.DisplayName);
        Assert.Equal(Reverse, from.Address);
    }

    [Fact]
    public void Forward_NoFrom_AddsReverseAliasFrom()
    {
        var result = Forward(TestFiles.Crlf("To: a@alias.example\nSubject: x\n\nbody\n"));

        Assert.Equal(Reverse, Assert.Single(HeaderAddresses.Parse(Header(result, "From")!)).Address);
    }

    [Fact]
    public void Forward_TwoFromFields_CollapseIntoOne()
    {
        var result = Forward(TestFiles.Crlf("From: a@example.com\nFrom: b@example.com\nSubject: x\n\nbody\n"));

        var message = MimeMessage.Parse(result);
        Assert.Single(message.Root.Headers, h => h.Name.Equals("From", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("a at example.com", HeaderAddresses.Parse(Header(result, "From")!)[0].DisplayName);
    }

    [Fact]
    public void Forward_ReplyTo_EachMailboxMappedOthersDropped()
    {
        var result = Forward(Newsletter);

        var replyTo = HeaderAddresses.Parse(Header(result, "Reply-To")!);
        var only = Assert.Single(replyTo);
        Assert.Equal("rev.help9@alias.example", only.Address);
        Assert.Equal("Help Desk \u2013 Help at Shop.Example", only.DisplayName);
        Assert.DoesNotContain("other@shop.example", Encoding.UTF8.GetString(result), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Forward_ReplyToNonAscii_MappedByLowerCaseAddress()
    {
        var result = Forward(TestFiles.Crlf("From: x@example.com\nReply-To: =?utf-8?Q?J=C3=BCrgen?= <JÜRGEN@EXÄMPLE.DE>\n\nbody\n"));

        var only = Assert.Single(HeaderAddresses.Parse(Header(result, "Reply-To")!));
        Assert.Equal("rev.jm2@alias.example", only.Address);
        Assert.Equal("Jürgen \u2013 JÜRGEN at EXÄMPLE.DE", only.DisplayName);
    }

    [Fact]
    public void Forward_ReplyToWithoutReverseAlias_IsRemoved()
    {
        var result = Forward(TestFiles.Crlf("From: x@example.com\nReply-To: stranger@example.net\nSubject: s\n\nbody\n"));

        Assert.Null(Header(result, "Reply-To"));
        Assert.DoesNotContain("stranger@example.net", Encoding.UTF8.GetString(result), StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_Trackers_StrippedAndListedInHeader()
    {
        var result = AliasForwarder.Forward(Newsletter, Options);

        Assert.Equal(2, result.Trackers.ImagesRemoved);
        Assert.Equal("2; t.shop.example, example.list-manage.com", Header(result.Message, AliasForwarder.TrackersHeader));
        var html = MimeMessage.Parse(result.Message).GetBodyStructure().HtmlBody.Single().GetText();
        Assert.DoesNotContain("open.gif", html, StringComparison.Ordinal);
        Assert.DoesNotContain("list-manage", html, StringComparison.Ordinal);
        Assert.Contains("hero.jpg", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_ForgedTrackerHeader_IsReplaced()
    {
        var result = Forward(Newsletter);

        var message = MimeMessage.Parse(result);
        var header = Assert.Single(message.Root.Headers, h => h.Name.Equals(AliasForwarder.TrackersHeader, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain("forged", header.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_NoTrackers_HeaderSaysZero()
    {
        var result = Forward(TestFiles.Crlf("From: x@example.com\nContent-Type: text/html\n\n<p>hello <img src=\"https://example.com/a.png\" width=\"80\"></p>\n"));

        Assert.Equal("0", Header(result, AliasForwarder.TrackersHeader));
    }

    [Theory]
    [InlineData("<p>x</p><IMG SRC=\"https://t.example.com/o.gif\" WIDTH=1 HEIGHT=1>")]
    [InlineData("<p>x</p><image src=\"https://t.example.com/o.gif\" width=\"1\" height=\"1\">")]
    [InlineData("<p>x</p><Img\nsrc=\"https://t.example.com/o.gif\" style=\"display:none\">")]
    public void Forward_ImageTagsInAnySpelling_AreStripped(string html)
    {
        var result = AliasForwarder.Forward(TestFiles.Crlf("From: x@example.com\nContent-Type: text/html\n\n" + html + "\n"), Options);

        Assert.Equal(1, result.Trackers.ImagesRemoved);
        Assert.DoesNotContain("o.gif", MimeMessage.Parse(result.Message).Root.GetText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_HtmlInsideMultipartSigned_LeftIntactSoTheSignatureStillVerifies()
    {
        var original = TestFiles.Crlf("""
            From: x@example.com
            MIME-Version: 1.0
            Content-Type: multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256; boundary="s"

            --s
            Content-Type: text/html; charset=utf-8

            <p>signed</p><img src="https://t.example.com/o.gif" width="1" height="1">
            --s
            Content-Type: application/pgp-signature

            -----BEGIN PGP SIGNATURE-----
            iQ==
            -----END PGP SIGNATURE-----
            --s--
            """);

        var result = AliasForwarder.Forward(original, Options);

        Assert.True(result.Trackers.IsEmpty);
        Assert.Equal(MimeMessage.Parse(original).Root.RawBody.ToArray(), MimeMessage.Parse(result.Message).Root.RawBody.ToArray());
        Assert.Equal("0", Header(result.Message, AliasForwarder.TrackersHeader));
    }

    [Fact]
    public void Forward_HtmlWithoutImages_BodyByteIdentical()
    {
        var original = TestFiles.Crlf("From: x@example.com\nContent-Type: text/html; charset=utf-8\n\n<P>Hello   <b>there</b></P>\n");

        var result = AliasForwarder.Forward(original, Options);

        Assert.Equal(MimeMessage.Parse(original).Root.RawBody.ToArray(), MimeMessage.Parse(result.Message).Root.RawBody.ToArray());
        Assert.Equal("0", Header(result.Message, AliasForwarder.TrackersHeader));
    }

    [Fact]
    public void Forward_StrippingOff_LeavesHtmlAndAddsNoHeader()
    {
        var result = AliasForwarder.Forward(Newsletter, Options with { StripTrackers = false });

        Assert.True(result.Trackers.IsEmpty);
        Assert.Null(Header(result.Message, AliasForwarder.TrackersHeader));
        Assert.Contains("open.gif", MimeMessage.Parse(result.Message).GetBodyStructure().HtmlBody.Single().GetText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Message-ID")]
    [InlineData("References")]
    [InlineData("In-Reply-To")]
    [InlineData("List-Unsubscribe")]
    [InlineData("Received")]
    [InlineData("Subject")]
    [InlineData("To")]
    public void Forward_ThreadingAndListHeaders_KeptByteForByte(string name)
    {
        var result = Forward(Newsletter);

        Assert.Equal(RawHeader(Newsletter, name), RawHeader(result, name));
    }

    [Fact]
    public void ReadSenders_ListUnsubscribeMailto_IsListedDecodedAndLowerCase()
    {
        Assert.Equal(["unsub@shop.example"], AliasForwarder.ReadSenders(Newsletter).UnsubscribeMailboxes);
    }

    [Fact]
    public void Forward_UnsubscribeReverseAlias_ReplacesOnlyTheMailtoAddressAndKeepsTheRest()
    {
        var reverse = new Dictionary<string, string> { ["unsub@shop.example"] = "ra.unsub@alias.example" };

        var result = AliasForwarder.Forward(Newsletter, new ForwardOptions("ra.from@alias.example", new Dictionary<string, string>(), ReverseUnsubscribe: reverse)).Message;

        Assert.Equal("<mailto:ra.unsub@alias.example?subject=unsub>, <https://shop.example/unsub?u=42>", Header(result, "List-Unsubscribe"));
        Assert.DoesNotContain("unsub@shop.example", Encoding.UTF8.GetString(result), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("<mailto:Leave%2B7%40List.Example?subject=x>", "leave+7@list.example")]
    [InlineData("<https://x.example/u>, <MAILTO:a@b.example>", "a@b.example")]
    [InlineData("<mailto:a@b.example,c@d.example>", null)]
    [InlineData("<mailto:?subject=no-address>", null)]
    [InlineData("<https://x.example/mailto:a@b.example>", null)]
    public void MailtoAddresses_ReadOnePlainMailboxPerUri(string value, string? expected)
    {
        var found = AliasForwarder.MailtoAddresses(value).Select(m => m.Address).ToList();

        Assert.Equal(expected is null ? [] : [expected], found);
    }

    [Theory]
    [InlineData("DKIM-Signature")]
    [InlineData("ARC-Seal")]
    public void Forward_SignaturesBrokenByTheRewrite_AreRemoved(string name)
    {
        var result = Forward(Newsletter);

        Assert.Null(Header(result, name));
    }

    [Fact]
    public void Forward_TextPartAndAttachment_ByteIdentical()
    {
        var result = Forward(Newsletter);

        AssertNonHtmlLeavesIdentical(Newsletter, result);
        Assert.True(result.AsSpan().IndexOf("Les caf=C3=A9s de la semaine.  =20\r\n"u8) > 0);
    }

    [Theory]
    [MemberData(nameof(CorpusTests.Messages), MemberType = typeof(CorpusTests))]
    public void Forward_CorpusMessage_NeverThrowsAndKeepsNonHtmlPartsIdentical(string name)
    {
        // As SMTP hands it over (CRLF lines); the corpus files keep their sources' line endings, and the forwarder's
        // output is always CRLF (ForwardedLineEndingsPropertyTests).
        var original = LineEndings.ToCrlf(MimeCorpus.Bytes(name));

        var result = Forward(original);

        AssertNonHtmlLeavesIdentical(original, result);
        Assert.Equal(Reverse, HeaderAddresses.Parse(Header(result, "From")!).Single().Address);
    }

    [Fact]
    public async Task Forward_ThenDkimSign_VerifiesWithDkimpy()
    {
        using var key = DkimSigningKey.GenerateRsa2048();
        var signer = new DkimSigner(new DkimSignerOptions { Domain = "alias.example", Selector = "veil" }, key, new FixedTimeProvider(DateTimeOffset.UtcNow));

        var signed = signer.Sign(Forward(Newsletter));

        Assert.Equal("PASS", await Dkimpy.VerifyAsync(signed, DkimDnsRecord.For(key)));
    }

    [Fact]
    public async Task Forward_NonAsciiSenderThenDkimSign_VerifiesWithDkimpy()
    {
        using var key = DkimSigningKey.GenerateRsa2048();
        var signer = new DkimSigner(new DkimSignerOptions { Domain = "alias.example", Selector = "veil" }, key, new FixedTimeProvider(DateTimeOffset.UtcNow));
        var original = TestFiles.Crlf("From: =?utf-8?B?5bGx55Sw5aSq6YOO?= <taro@example.jp>\nReply-To: Jürgen <jürgen@exämple.de>\nTo: a@alias.example\nSubject: =?utf-8?B?5pel5pys?=\nMessage-ID: <x@example.jp>\n\nこんにちは\n");

        var signed = signer.Sign(Forward(original));

        Assert.Equal("PASS", await Dkimpy.VerifyAsync(signed, DkimDnsRecord.For(key)));
    }

    [Fact]
    public void ReadSenders_ReturnsFirstFromAndEveryReplyTo()
    {
        var senders = AliasForwarder.ReadSenders(Newsletter);

        Assert.Equal(new MailboxAddress("Café Shop", "News@Shop.Example"), senders.From);
        Assert.Equal([new MailboxAddress("Help Desk", "Help@Shop.Example"), new MailboxAddress(null, "other@shop.example")], senders.ReplyTo);
    }

    [Fact]
    public void ReadSenders_Garbage_ReturnsEmpty()
    {
        var senders = AliasForwarder.ReadSenders("\0\0not a message"u8);

        Assert.Null(senders.From);
        Assert.Empty(senders.ReplyTo);
    }

    private static byte[] Forward(byte[] message) => AliasForwarder.Forward(message, Options).Message;

    private static string? Header(byte[] message, string name) => MimeMessage.Parse(message).Root.GetHeader(name)?.Value;

    private static byte[] RawHeader(byte[] message, string name) =>
        (MimeMessage.Parse(message).Root.GetHeader(name) ?? throw new InvalidOperationException(name + " missing")).Raw.ToArray();

    /// <summary>Every leaf that is not text/html has the same body bytes (and, below the top level, the same header bytes).</summary>
    private static void AssertNonHtmlLeavesIdentical(byte[] original, byte[] forwarded)
    {
        var before = Leaves(MimeMessage.Parse(original)).ToList();
        var after = Leaves(MimeMessage.Parse(forwarded)).ToList();
        Assert.Equal(before.Count, after.Count);
        for (var i = 0; i < before.Count; i++)
        {
            if (before[i].ContentType.Value == "text/html")
            {
                continue;
            }

            Assert.True(before[i].RawBody.Span.SequenceEqual(after[i].RawBody.Span), $"part {i} ({before[i].ContentType.Value}) body changed");
            if (before[i].Parent is not null)
            {
                Assert.True(before[i].Raw.Span.SequenceEqual(after[i].Raw.Span), $"part {i} ({before[i].ContentType.Value}) changed");
            }
        }
    }

    private static IEnumerable<MimeEntity> Leaves(MimeMessage message) =>
        message.Root.DescendantsAndSelf().Where(e => !e.IsMultipart && e.EncapsulatedMessage is null);
}
