using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Veil.Crypto.Mailbox;
using static Veil.Cli.Tests.CliAccounts;

namespace Veil.Cli.Tests.Mailbox;

/// <summary>
/// Issue 17 point 6, second half: password mail to outsiders through the real `veil` command, the real server and
/// its outbound queue to the SMTP sink. The outsider's side is played over HTTP with the SDK's format code
/// (Veil.Crypto.Mailbox.OutsiderPackage), exactly what the page does; the page itself is tested in Chromium
/// (Veil.E2E.Tests.OutsiderMailBrowserTests).
/// </summary>
public sealed partial class MailSendCliTests
{
    [Fact]
    public async Task PasswordMail_TheNoticeHasOnlyALink_ThePackageOpensWithThePasswordOnly_TheReplyReachesTheSender_AndNoCanaryIsStored()
    {
        var canaries = new Canaries();
        var password = "pw-canary-" + Hex(6);
        var outsider = "outsider." + Hex(3) + "@elsewhere.test";
        var (passwordFile, attachment) = await FilesAsync(password, canaries);

        var sent = Ok(await _world.Alice.RunAsync(
            ["mail", "send", "--to", outsider, "--to", _world.BobAddress, "--subject", canaries.Subject, "--body", "Hello, " + canaries.Body, "--attach", attachment,
             "--outsider-password-file", passwordFile, "--password-hint", "the usual one", "--json", "--password-stdin"],
            StrongPassword + "\n")).Event("mail-sent");
        Assert.Equal([outsider], sent.GetProperty("passwordRecipients").EnumerateArray().Select(e => e.GetString()));
        Assert.Empty(sent.GetProperty("outsiders").EnumerateArray());
        Assert.Equal([_world.BobAddress], sent.GetProperty("veilRecipients").EnumerateArray().Select(e => e.GetString())); // mixed: Bob gets his end-to-end copy

        // The notice: from Alice, with the link and the hint, and nothing of the message or the password.
        var (envelope, notice) = await _world.SunkAsync(outsider);
        Assert.Equal(_world.AliceAddress, envelope.ReversePath);
        Assert.Contains("the usual one", notice, StringComparison.Ordinal);
        foreach (var secret in canaries.All.Append(password))
        {
            Assert.DoesNotContain(secret, notice, StringComparison.Ordinal);
        }

        var id = PackageId(notice);
        var package = await FetchAsync(id);
        Assert.Null(OutsiderPackage.TryOpen(package, "wrong-" + password));
        var opened = OutsiderPackage.TryOpen(package, password) ?? throw new InvalidOperationException("the right password did not open the package");
        var mime = Encoding.UTF8.GetString(opened.Mime);
        Assert.Contains("Subject: " + canaries.Subject, mime, StringComparison.Ordinal);
        Assert.Contains(canaries.Body, mime, StringComparison.Ordinal);
        Assert.Contains(canaries.FileName, mime, StringComparison.Ordinal);

        // A tampered package (one ciphertext bit) opens with no password.
        var tampered = (byte[])package.Clone();
        tampered[^20] ^= 1;
        Assert.Null(OutsiderPackage.TryOpen(tampered, password));
        var lowered = (byte[])package.Clone();
        lowered[8] = 1; // the header (iterations) is authenticated too
        Assert.Null(OutsiderPackage.TryOpen(lowered, password));

        // The outsider replies; Alice lists it and reads it with her key; a second reply on one view is refused.
        var replyText = "reply-canary-" + Hex(6);
        using (var reply = await PostReplyAsync(id, OutsiderPackage.SealReply(opened.ReplyKey, Encoding.UTF8.GetBytes(replyText))))
        {
            Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        }

        using (var again = await PostReplyAsync(id, OutsiderPackage.SealReply(opened.ReplyKey, "more"u8)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
            Assert.Contains("reply-limit-reached", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var listed = (await ListAsync(_world.Alice, sent: false)).Single(m => Subject(m) == "Re: " + canaries.Subject);
        Assert.Equal(outsider, listed.GetProperty("envelopeFrom").GetString());
        var read = Ok(await _world.Alice.RunAsync(["mail", "read", listed.GetProperty("id").GetString()!, "--password-stdin"], StrongPassword + "\n"));
        Assert.Contains(replyText, read.Stdout, StringComparison.Ordinal);
        Assert.Contains(outsider, read.Stdout, StringComparison.Ordinal);

        // Bob, the Veil recipient of the same message, reads his end-to-end copy.
        var bobs = (await ListAsync(_world.Bob, sent: false)).Single(m => Subject(m) == canaries.Subject);
        Assert.Contains(canaries.Body, Ok(await _world.Bob.RunAsync(["mail", "read", bobs.GetProperty("id").GetString()!, "--password-stdin"], StrongPassword + "\n")).Stdout, StringComparison.Ordinal);

        // Alice's Sent copy stays end-to-end encrypted and readable by her.
        var sentId = sent.GetProperty("sentId").GetString()!;
        Assert.Contains(canaries.Body, Ok(await _world.Alice.RunAsync(["mail", "read", sentId, "--password-stdin"], StrongPassword + "\n")).Stdout, StringComparison.Ordinal);

        // The audit: data directory (database, blobs, the server's outbound spool), PostgreSQL dump, logs.
        var stored = await AllStoredTextAsync();
        foreach (var canary in canaries.All.Append(password).Append(replyText))
        {
            Assert.DoesNotContain(canary, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(canary, Server.Logs.AllText, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task PasswordMail_MaxViews_TwoFetchesThenGoneForGood_AndExpiry_TheJobDestroysIt()
    {
        var canaries = new Canaries();
        var password = "pw-" + Hex(6);
        var (passwordFile, _) = await FilesAsync(password, canaries);
        var twice = "twice." + Hex(3) + "@elsewhere.test";
        var daily = "daily." + Hex(3) + "@elsewhere.test";
        Ok(await _world.Alice.RunAsync(
            ["mail", "send", "--to", twice, "--subject", canaries.Subject, "--body", canaries.Body, "--outsider-password-file", passwordFile, "--max-views", "2", "--password-stdin"],
            StrongPassword + "\n"));
        Ok(await _world.Alice.RunAsync(
            ["mail", "send", "--to", daily, "--subject", canaries.Subject, "--body", canaries.Body, "--outsider-password-file", passwordFile, "--expires", "1d", "--password-stdin"],
            StrongPassword + "\n"));
        var twiceId = PackageId((await _world.SunkAsync(twice)).Text);
        var dailyId = PackageId((await _world.SunkAsync(daily)).Text);

        Assert.NotNull(OutsiderPackage.TryOpen(await FetchAsync(twiceId), password));
        Assert.NotNull(PackageBlob(twiceId));
        Assert.NotNull(OutsiderPackage.TryOpen(await FetchAsync(twiceId), password));
        Assert.Null(PackageBlob(twiceId)); // the second view was the last: destroyed as it was answered
        await AssertGoneAsync(twiceId, "view-limit-reached");

        Assert.NotNull(OutsiderPackage.TryOpen(await FetchAsync(dailyId), password));
        await RunJobAsync();
        Assert.NotNull(PackageBlob(dailyId));
        Server.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        await RunJobAsync();
        Assert.Null(PackageBlob(dailyId));
        await AssertGoneAsync(dailyId, "message-expired");
        await RunJobAsync(); // idempotent
    }

    [Fact]
    public async Task PasswordMail_BadInput_IsAProblemOrAOneLineError_AndChangesNothing()
    {
        var (passwordFile, _) = await FilesAsync("pw", new Canaries());
        var both = await _world.Alice.RunAsync(
            ["mail", "send", "--to", "x@elsewhere.test", "--subject", "s", "--body", "b", "--outsider-password-file", "-", "--password-stdin"], StrongPassword + "\n");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("both read stdin", both.Stderr, StringComparison.Ordinal);

        var hint = await _world.Alice.RunAsync(
            ["mail", "send", "--to", "x@elsewhere.test", "--subject", "s", "--body", "b", "--outsider-password-file", passwordFile, "--password-hint", "it is pw!", "--password-stdin"],
            StrongPassword + "\n");
        Assert.NotEqual(0, hint.ExitCode);
        Assert.Contains("must not contain the password", hint.Stderr, StringComparison.Ordinal);

        foreach (var (path, status, code) in new[]
        {
            ("/api/v1/mail/outsider/short", HttpStatusCode.NotFound, "message-not-found"),
            ("/api/v1/mail/outsider/AAAAAAAAAAAAAAAAAAAAAA", HttpStatusCode.NotFound, "message-not-found"),
        })
        {
            using var response = await Server.Client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains(code, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var badReply = await Server.Client.PostAsJsonAsync(new Uri("/api/v1/mail/outsider/AAAAAAAAAAAAAAAAAAAAAA/replies", UriKind.Relative), new { reply = "bm90IGEgcmVwbHk=" });
        Assert.Equal(HttpStatusCode.BadRequest, badReply.StatusCode);
        Assert.Contains("invalid-message", await badReply.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<(string PasswordFile, string Attachment)> FilesAsync(string password, Canaries canaries)
    {
        var passwordFile = Path.Combine(_world.Directory, "pw-" + Hex(4));
        await File.WriteAllTextAsync(passwordFile, password + "\n");
        var attachment = Path.Combine(_world.Directory, canaries.FileName);
        await File.WriteAllBytesAsync(attachment, canaries.AttachmentBytes);
        return (passwordFile, attachment);
    }

    private static string PackageId(string notice)
    {
        var unfolded = notice.Replace("=\r\n", "", StringComparison.Ordinal);
        return Regex.Match(unfolded, @"/app/m/([A-Za-z0-9_-]{22})").Groups[1].Value is { Length: 22 } id
            ? id
            : throw new InvalidOperationException("no link in the notice");
    }

    private async Task<byte[]> FetchAsync(string id)
    {
        using var response = await Server.Client.GetAsync(new Uri("/api/v1/mail/outsider/" + id, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        return await response.Content.ReadAsByteArrayAsync();
    }

    private Task<HttpResponseMessage> PostReplyAsync(string id, byte[] sealedReply) =>
        Server.Client.PostAsJsonAsync(new Uri($"/api/v1/mail/outsider/{id}/replies", UriKind.Relative), new { reply = Convert.ToBase64String(sealedReply) });

    private async Task AssertGoneAsync(string id, string code)
    {
        using var response = await Server.Client.GetAsync(new Uri("/api/v1/mail/outsider/" + id, UriKind.Relative));
        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(code, problem.RootElement.GetProperty("code").GetString());
    }

    private string? PackageBlob(string id)
    {
        var root = Path.Combine(Server.DataDirectory, "blobs", "mail");
        return Directory.Exists(root) ? Directory.GetFiles(root, "package", SearchOption.AllDirectories).SingleOrDefault(f => f.Contains(id, StringComparison.Ordinal)) : null;
    }
}
