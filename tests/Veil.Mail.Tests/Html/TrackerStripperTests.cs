using System.Text;
using Veil.Mail.Html;
using Veil.Mail.Mime;

namespace Veil.Mail.Tests.Html;

public sealed class TrackerStripperTests
{
    // A newsletter shaped like a Mailchimp campaign: layout images, a 1×1 open pixel, a hidden beacon, an image from
    // a tracking host, and links with utm_* / mc_eid / fbclid parameters.
    private const string Newsletter = """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>Weekly digest</title></head>
        <body style="margin:0">
        <table width="600" align="center"><tr><td>
          <img src="https://cdn.example-news.org/logo.png" width="200" height="60" alt="Example News">
          <h1>Café de la semaine</h1>
          <p>Read <a href="https://example-news.org/post/42?utm_source=newsletter&amp;utm_medium=email&amp;id=42&amp;mc_eid=abc123#top">the story</a>
             or <a href="https://shop.example.org/?fbclid=IwAR0xyz">visit the shop</a>
             or <a href="https://example.org/plain">a clean link</a>.</p>
          <img src="https://cdn.example-news.org/hero.jpg" style="width:560px;height:300px" alt="">
          <img src="https://example-news.us1.list-manage.com/track/open.php?u=1&amp;id=2" alt="">
          <img src="https://t.example-news.org/o/abc.gif" width="1" height="1" alt="" border="0">
          <img src="https://t.example-news.org/p.gif" style="display: none !important">
          <img src="https://t.example-news.org/q.gif" style="height:0px;width:0px">
        </td></tr></table>
        </body></html>
        """;

    [Fact]
    public void StripHtml_Newsletter_RemovesPixelsAndTrackingParameters()
    {
        var result = TrackerStripper.StripHtml(Newsletter);

        Assert.Equal(4, result.Report.ImagesRemoved);
        Assert.Equal(4, result.Report.LinkParametersRemoved);
        Assert.Contains(result.Report.Removals, r => r.Kind == TrackerRemovalKind.TrackerHostImage && r.Detail == "example-news.us1.list-manage.com");
        Assert.Contains(result.Report.Removals, r => r.Kind == TrackerRemovalKind.TinyImage);
        Assert.Contains(result.Report.Removals, r => r.Kind == TrackerRemovalKind.HiddenImage);
        Assert.Contains("logo.png", result.Html, StringComparison.Ordinal);
        Assert.Contains("hero.jpg", result.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("t.example-news.org", result.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("utm_", result.Html, StringComparison.Ordinal);
        Assert.Contains("https://example-news.org/post/42?id=42#top", result.Html, StringComparison.Ordinal);
        Assert.Contains("href=\"https://shop.example.org/\"", result.Html, StringComparison.Ordinal);
        Assert.Contains("href=\"https://example.org/plain\"", result.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void StripHtml_LinkParametersOptionOff_KeepsLinks()
    {
        var result = TrackerStripper.StripHtml(Newsletter, new TrackerStripOptions { StripLinkParameters = false });

        Assert.Equal(0, result.Report.LinkParametersRemoved);
        Assert.Contains("utm_source=newsletter", result.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void StripHtml_SecondPass_RemovesNothing()
    {
        var first = TrackerStripper.StripHtml(Newsletter);

        var second = TrackerStripper.StripHtml(first.Html);

        Assert.True(second.Report.IsEmpty);
        Assert.Equal(first.Html, second.Html);
    }

    [Fact]
    public void StripHtml_CleanHtml_ReturnsInputUnchanged()
    {
        const string html = "<p>Hello <img src=\"https://example.org/a.png\" width=\"40\"></p>";

        var result = TrackerStripper.StripHtml(html);

        Assert.True(result.Report.IsEmpty);
        Assert.Same(html, result.Html);
    }

    [Fact]
    public void StripMessage_OnlyHtmlPartChanges_TextAndAttachmentStayByteIdentical()
    {
        var source = BuildNewsletterMessage("quoted-printable", "utf-8");
        var message = MimeMessage.Parse(source);

        var result = TrackerStripper.StripMessage(message);
        var stripped = MimeMessage.Parse(result.Message);

        Assert.Equal(8, result.Report.Removals.Count);
        var before = message.Root.Children;
        var after = stripped.Root.Children;
        Assert.Equal(before[0].Raw.ToArray(), after[0].Raw.ToArray());
        Assert.Equal(before[1].Children[0].Raw.ToArray(), after[1].Children[0].Raw.ToArray());
        Assert.Equal(before[2].Raw.ToArray(), after[2].Raw.ToArray());
        Assert.Equal(source.AsSpan(0, before[0].End).ToArray(), result.Message.AsSpan(0, after[0].End).ToArray());
        var html = after[1].Children[1];
        Assert.Equal(MimeTransferEncoding.QuotedPrintable, html.TransferEncoding);
        Assert.Contains("Café de la semaine", html.GetText(), StringComparison.Ordinal);
        Assert.DoesNotContain("list-manage", html.GetText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("base64", "utf-8")]
    [InlineData("quoted-printable", "windows-1252")]
    [InlineData("8bit", "iso-8859-1")]
    public void StripMessage_KeepsTheHtmlPartsEncodingAndCharset(string transferEncoding, string charset)
    {
        var message = MimeMessage.Parse(BuildNewsletterMessage(transferEncoding, charset));

        var stripped = MimeMessage.Parse(TrackerStripper.StripMessage(message).Message);
        var html = stripped.Root.Children[1].Children[1];

        Assert.Equal(TransferEncodingCodec.Parse(transferEncoding, out _), html.TransferEncoding);
        Assert.Equal(charset, html.ContentType["charset"]);
        Assert.Contains("Café de la semaine", html.GetText(), StringComparison.Ordinal);
        Assert.DoesNotContain(stripped.Defects, d => d.Kind != MimeDefectKind.BareLineFeed);
    }

    [Fact]
    public void StripMessage_Twice_SecondPassIsByteIdentical()
    {
        var first = TrackerStripper.StripMessage(MimeMessage.Parse(BuildNewsletterMessage("quoted-printable", "utf-8")));

        var second = TrackerStripper.StripMessage(MimeMessage.Parse(first.Message));

        Assert.True(second.Report.IsEmpty);
        Assert.Equal(first.Message, second.Message);
    }

    [Fact]
    public void KnownTrackerHosts_LoadFromEmbeddedList()
    {
        Assert.Contains("list-manage.com", TrackerStripper.KnownTrackerHosts);
        Assert.DoesNotContain(TrackerStripper.KnownTrackerHosts, h => h.StartsWith('#'));
    }

    private static byte[] BuildNewsletterMessage(string transferEncoding, string charset)
    {
        var encoding = MimeCharsets.GetEncoding(charset)!;
        var htmlBytes = encoding.GetBytes(Newsletter.Replace("\n", "\r\n", StringComparison.Ordinal));
        var body = transferEncoding switch
        {
            "base64" => Encoding.ASCII.GetString(TransferEncodingCodec.EncodeBase64(htmlBytes)),
            "quoted-printable" => Encoding.ASCII.GetString(TransferEncodingCodec.EncodeQuotedPrintable(htmlBytes)),
            _ => encoding.GetString(htmlBytes),
        };
        var text = "From: News <news@example-news.org>\r\nTo: reader@example.net\r\nSubject: =?utf-8?Q?Caf=C3=A9?= digest\r\n" +
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n" +
            "This is a multi-part message in MIME format.\r\n" +
            "--outer\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nRead it here: https://example-news.org/post/42?utm_source=newsletter  \r\n" +
            "--outer\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n" +
            "--alt\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nPlain version\r\n" +
            "--alt\r\nContent-Type: text/html; charset=" + charset + "\r\nContent-Transfer-Encoding: " + transferEncoding + "\r\n\r\n" + body + "\r\n" +
            "--alt--\r\n" +
            "--outer\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" +
            "--outer--\r\n";
        return encoding.CodePage == 65001 || transferEncoding != "8bit" ? Encoding.UTF8.GetBytes(text) : encoding.GetBytes(text);
    }
}
