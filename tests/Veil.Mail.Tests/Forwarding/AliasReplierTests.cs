using System.Text;
using Veil.Mail.Forwarding;
using Veil.Mail.Mime;
using Veil.Mail.Tests.Dkim;

namespace Veil.Mail.Tests.Forwarding;

public sealed class AliasReplierTests
{
    private static readonly ReplyOptions Options = new(
        "amber.river42@alias.example",
        "rev.k3jd7@alias.example",
        "jane@example.com",
        "Jane Doe",
        ["me.real@home.example", "Me@Work.Example"]);

    // A reply as a desktop client and its provider send it: trace fields, read-receipt requests, the user's real
    // addresses in mixed case, encoded, %-encoded and folded.
    private static readonly byte[] Reply = TestFiles.Crlf("""
        Return-Path: <ME.REAL@home.example>
        Received: from [192.0.2.44] (dsl-44.isp.example [192.0.2.44])
        	by smtp.home.example with ESMTPSA id 123
        	for <rev.k3jd7@alias.example>; Sun, 22 Nov 2026 11:00:00 +0000
        Received: from smtp.home.example by mx.alias.example; Sun, 22 Nov 2026 11:00:01 +0000
        DKIM-Signature: v=1; a=rsa-sha256; d=home.example; s=s1; h=from:to; bh=AAAA; b=BBBB
        Authentication-Results: mx.alias.example; spf=pass smtp.mailfrom=me.real@home.example
        From: "Me Real" <Me.Real@Home.Example>
        Sender: me.real@home.example
        Reply-To: Me <me@work.example>
        To: =?utf-8?B?SmFuZSBEb2Ug4oCTIGphbmUgYXQgZXhhbXBsZS5jb20=?= <REV.k3jd7@alias.example>
        Cc: Me Again <ME.REAL@HOME.EXAMPLE>, Friend <friend@example.org>,
         "me.real@home.example" <other@example.org>
        Subject: Re: Hello (sent from me.real@home.example)
        Message-ID: <reply-1@home.example>
        In-Reply-To: <orig-1@example.com>
        References: <orig-1@example.com>
        Disposition-Notification-To: <me.real@home.example>
        Return-Receipt-To: me.real@HOME.example
        X-Original-From: =?utf-8?B?bWUucmVhbEBob21lLmV4YW1wbGU=?=
        X-Forwarded-For: list%2Bme%40work.example me%40work.example
        x-apparently-from: ME@WORK.EXAMPLE
        X-Mailer: Example Mail 1.0
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        Hi Jane,

        On Sunday, Jane Doe – jane at example.com <rev.k3jd7@alias.example> wrote:
        > Hello
        --
        me.real@home.example
        """);

    [Fact]
    public void Reply_NoRemovedAddressLeftInAnyHeader()
    {
        var result = AliasReplier.Reply(Reply, Options);

        var message = MimeMessage.Parse(result);
        foreach (var header in message.Root.Headers)
        {
            foreach (var text in new[] { Encoding.UTF8.GetString(header.Raw.Span), header.DecodedValue, Uri.UnescapeDataString(header.Value) })
            {
                Assert.DoesNotContain("me.real@home.example", text, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("me@work.example", text, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    [Theory]
    [InlineData("Return-Path")]
    [InlineData("Received")]
    [InlineData("DKIM-Signature")]
    [InlineData("Authentication-Results")]
    [InlineData("Sender")]
    [InlineData("Reply-To")]
    [InlineData("Disposition-Notification-To")]
    [InlineData("Return-Receipt-To")]
    [InlineData("X-Original-From")]
    [InlineData("X-Forwarded-For")]
    [InlineData("X-Apparently-From")]
    public void Reply_FieldsRevealingTheUser_AreRemoved(string name)
    {
        var result = AliasReplier.Reply(Reply, Options);

        Assert.Null(MimeMessage.Parse(result).Root.GetHeader(name));
    }

    [Fact]
    public void Reply_From_IsAliasWithUsersDisplayName()
    {
        var result = AliasReplier.Reply(Reply, Options);

        Assert.Equal(new MailboxAddress("Me Real", "amber.river42@alias.example"), Single(result, "From"));
    }

    [Fact]
    public void Reply_FromDisplayNameWithRemovedAddress_IsDropped()
    {
        var result = AliasReplier.Reply(TestFiles.Crlf("From: \"ME.REAL@home.example\" <me.real@home.example>\nTo: rev.k3jd7@alias.example\n\nhi\n"), Options);

        Assert.Equal(new MailboxAddress(null, "amber.river42@alias.example"), Single(result, "From"));
    }

    [Fact]
    public void Reply_To_ReverseAliasBecomesContact()
    {
        var result = AliasReplier.Reply(Reply, Options);

        Assert.Equal(new MailboxAddress("Jane Doe", "jane@example.com"), Single(result, "To"));
    }

    [Fact]
    public void Reply_Cc_RemovedAddressesDroppedOthersKept()
    {
        var result = AliasReplier.Reply(Reply, Options);

        Assert.Equal(
            [new MailboxAddress("Friend", "friend@example.org"), new MailboxAddress(null, "other@example.org")],
            HeaderAddresses.Parse(MimeMessage.Parse(result).Root.GetHeader("Cc")!.Value));
    }

    [Fact]
    public void Reply_CcOnlyRemovedAddresses_FieldRemoved()
    {
        var result = AliasReplier.Reply(TestFiles.Crlf("From: me.real@home.example\nTo: rev.k3jd7@alias.example\nCc: me@work.example\n\nhi\n"), Options);

        Assert.Null(MimeMessage.Parse(result).Root.GetHeader("Cc"));
    }

    [Fact]
    public void Reply_Subject_RemovedAddressReplacedByAlias()
    {
        var result = AliasReplier.Reply(Reply, Options);

        Assert.Equal("Re: Hello (sent from amber.river42@alias.example)", MimeMessage.Parse(result).Root.GetHeader("Subject")!.DecodedValue);
    }

    [Theory]
    [InlineData("Message-ID")]
    [InlineData("In-Reply-To")]
    [InlineData("References")]
    [InlineData("X-Mailer")]
    [InlineData("Content-Type")]
    public void Reply_OtherFields_KeptByteForByte(string name)
    {
        var result = AliasReplier.Reply(Reply, Options);

        Assert.Equal(MimeMessage.Parse(Reply).Root.GetHeader(name)!.Raw.ToArray(), MimeMessage.Parse(result).Root.GetHeader(name)!.Raw.ToArray());
    }

    [Fact]
    public void Reply_Body_Untouched()
    {
        var result = AliasReplier.Reply(Reply, Options);

        Assert.Equal(MimeMessage.Parse(Reply).Root.RawBody.ToArray(), MimeMessage.Parse(result).Root.RawBody.ToArray());
    }

    [Fact]
    public void Reply_NoFrom_AddsAliasFrom()
    {
        var result = AliasReplier.Reply(TestFiles.Crlf("To: rev.k3jd7@alias.example\n\nhi\n"), Options);

        Assert.Equal(new MailboxAddress(null, "amber.river42@alias.example"), Single(result, "From"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\0\0\0")]
    [InlineData("From: <<<\r\nTo: ,,,;;\r\n\r\n")]
    [InlineData("To: rev.k3jd7@alias.example\nCc: (me.real@home.example) unparseable@@\n\nhi")]
    public void Reply_Garbage_NeverThrowsAndLeaksNothing(string input)
    {
        var result = AliasReplier.Reply(Encoding.UTF8.GetBytes(input), Options);

        foreach (var header in MimeMessage.Parse(result).Root.Headers)
        {
            Assert.DoesNotContain("me.real@home.example", header.Value, StringComparison.OrdinalIgnoreCase);
        }
    }

    private static MailboxAddress Single(byte[] message, string name) =>
        Assert.Single(HeaderAddresses.Parse(MimeMessage.Parse(message).Root.GetHeader(name)!.Value));
}
