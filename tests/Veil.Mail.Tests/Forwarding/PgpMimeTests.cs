// PgpMime: the RFC 3156 shape of an encrypted forwarded copy, read back with Veil's own MIME parser and OpenPGP layer
// (gpg reads the same output in tests/Veil.Server.Tests/Alias/AliasPgpTests).
using System.Text;
using Veil.Crypto.OpenPgp;
using Veil.Mail.Forwarding;
using Veil.Mail.Mime;

namespace Veil.Mail.Tests.Forwarding;

public sealed class PgpMimeTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Encrypt_MessageWithoutContentTypeAndBareLf_IsMultipartEncryptedWithTheEntityInside()
    {
        var key = OpenPgpKeys.Generate("Me <me@mailbox.test>", Now);
        var message = Encoding.ASCII.GetBytes("From: a@sender.test\nTo: b@alias.test\nSubject: Hi\nMIME-Version: 1.0\n\nline one\nline two\n");

        var encrypted = PgpMime.Encrypt(message, key.PublicKey, Now);

        Assert.True(LineEndings.IsCanonical(encrypted));
        var parsed = MimeMessage.Parse(encrypted);
        Assert.Equal("multipart/encrypted", parsed.Root.ContentType.Value);
        Assert.Equal("application/pgp-encrypted", parsed.Root.ContentType["protocol"]);
        Assert.Equal(2, parsed.Root.Children.Count);
        Assert.Equal("application/pgp-encrypted", parsed.Root.Children[0].ContentType.Value);
        Assert.StartsWith("Version: 1\r\n", Encoding.ASCII.GetString(parsed.Root.Children[0].RawBody.Span), StringComparison.Ordinal);
        Assert.Equal("application/octet-stream", parsed.Root.Children[1].ContentType.Value);
        Assert.Single(parsed.Root.Headers, h => h.Name == "MIME-Version");
        Assert.Equal("Hi", parsed.Root.Headers.Single(h => h.Name == "Subject").Value);
        Assert.DoesNotContain("line one", Encoding.ASCII.GetString(encrypted), StringComparison.Ordinal);

        using var plaintext = new MemoryStream();
        var result = OpenPgpMessage.Decrypt(
            new MemoryStream(parsed.Root.Children[1].RawBody.ToArray()), plaintext, OpenPgpSecretKey.Load(key.SecretKey, Now)!, []);
        Assert.Equal(OpenPgpDecryptStatus.Ok, result.Status);
        Assert.Equal("Content-Type: text/plain; charset=us-ascii\r\n\r\nline one\r\nline two\r\n", Encoding.ASCII.GetString(plaintext.ToArray()));
    }
}
