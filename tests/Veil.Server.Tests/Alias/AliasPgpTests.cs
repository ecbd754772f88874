// PGP on forwarded alias copies: a recipient with an OpenPGP key gets every copy as PGP/MIME (RFC 3156), encrypted
// after the alias rewrote it and DKIM-signed after encryption; the other recipients of the alias still get it plain.
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Veil.Crypto.OpenPgp;
using Veil.Server.Tests.Identity;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Alias;

public sealed class AliasPgpTests
{
    private static OpenPgpGeneratedKey NewKey(AliasHarness h) => OpenPgpKeys.Generate("Me <me@mailbox.test>", h.Server.Time.GetUtcNow());

    private static async Task<HttpResponseMessage> SetKeyAsync(AliasHarness h, TestUser user, Guid recipient, string key) =>
        await h.Server.SendAsync(HttpMethod.Put, $"/api/v1/alias/recipients/{recipient}/pgp", new { publicKey = key }, user.AccessToken);

    [Fact]
    public async Task Forward_ToRecipientWithPgpKey_IsPgpMimeThatGpgDecryptsAndDkimpyVerifies_WhileThePlainRecipientGetsItInClear()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, keyed) = await h.UserWithRecipientAsync("me@mailbox.test");
        await h.AddRecipientAsync(user, "plain@mailbox.test");
        await h.VerifyRecipientAsync("plain@mailbox.test");
        var key = NewKey(h);
        using (var set = await SetKeyAsync(h, user, keyed, key.PublicKey.ToArmored()))
        {
            Assert.True(set.StatusCode == HttpStatusCode.OK, await set.Content.ReadAsStringAsync());
            Assert.Equal(key.PublicKey.Sha256Fingerprint, (await set.JsonAsync()).GetProperty("pgpFingerprint").GetString());
        }

        var alias = await h.CreateAliasAsync(user);
        var address = alias.GetProperty("address").GetString()!;

        var (exit, output) = await h.SwaksAsync("bounces@sender.test", address, AliasForwardingTests.Message(address, "Quarterly numbers"));

        Assert.True(exit == 0, output);
        var encrypted = await h.Sink.WaitForAsync(m => m.RcptTos.Contains("me@mailbox.test"));
        var plain = await h.Sink.WaitForAsync(m => m.RcptTos.Contains("plain@mailbox.test"));
        Assert.Equal(["me@mailbox.test"], encrypted.RcptTos);
        Assert.DoesNotContain("me@mailbox.test", plain.RcptTos);
        Assert.StartsWith("multipart/encrypted; protocol=\"application/pgp-encrypted\"", encrypted.Header("Content-Type")!, StringComparison.Ordinal);
        Assert.Equal("Quarterly numbers", encrypted.Header("Subject"));
        Assert.Matches("ra\\.[a-z2-7]{22}@alias\\.test", encrypted.Header("From")!);
        Assert.DoesNotContain("Hello from Jane", encrypted.Text, StringComparison.Ordinal);
        Assert.Contains("Hello from Jane", plain.Text, StringComparison.Ordinal);
        Assert.Contains("d=alias.test", encrypted.Header("DKIM-Signature")!, StringComparison.Ordinal);
        Assert.True(await h.DkimpyVerifiesAsync(encrypted.Raw), "dkimpy did not verify the encrypted copy");

        var decrypted = await GpgDecryptAsync(key.SecretKey, Armored(encrypted.Text));
        Assert.StartsWith("Content-Type: multipart/alternative; boundary=\"b1\"\r\n", decrypted, StringComparison.Ordinal);
        Assert.Contains("Hello from Jane,\r\nthis line ends with two spaces  \r\n", decrypted, StringComparison.Ordinal);
        Assert.Contains("caf\u00e9", decrypted, StringComparison.Ordinal);
        Assert.DoesNotContain("list-manage.com/track", decrypted, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClearPgp_NextForwardGoesOutInClear()
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, recipient) = await h.UserWithRecipientAsync("me@mailbox.test");
        using (var set = await SetKeyAsync(h, user, recipient, NewKey(h).PublicKey.ToArmored()))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        using var clear = await h.Server.SendAsync(HttpMethod.Delete, $"/api/v1/alias/recipients/{recipient}/pgp", bearer: user.AccessToken);
        Assert.Equal(HttpStatusCode.OK, clear.StatusCode);
        Assert.Equal(JsonValueKind.Null, (await clear.JsonAsync()).GetProperty("pgpFingerprint").ValueKind);
        var address = (await h.CreateAliasAsync(user)).GetProperty("address").GetString()!;

        Assert.Equal(0, (await h.SwaksAsync("bounces@sender.test", address, AliasForwardingTests.Message(address, "Plain again"))).ExitCode);

        var mail = await h.Sink.WaitForAsync(m => m.RcptTos.Contains("me@mailbox.test"));
        Assert.StartsWith("multipart/alternative", mail.Header("Content-Type")!, StringComparison.Ordinal);
        Assert.Contains("Hello from Jane", mail.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a key", "openpgp-key-malformed")]
    [InlineData("secret", "openpgp-key-is-secret")]
    [InlineData("", "invalid-request")]
    public async Task SetPgp_KeyVeilDoesNotAccept_IsRefusedWithProblemDetailsAndNothingChanges(string key, string code)
    {
        await using var h = await AliasHarness.StartAsync();
        var (user, recipient) = await h.UserWithRecipientAsync("me@mailbox.test");
        if (key == "secret")
        {
            using var buffer = new MemoryStream();
            using (var armor = new Org.BouncyCastle.Bcpg.ArmoredOutputStream(buffer))
            {
                armor.Write(NewKey(h).SecretKey);
            }

            key = Encoding.ASCII.GetString(buffer.ToArray());
        }

        using var response = await SetKeyAsync(h, user, recipient, key);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.JsonAsync();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        var listed = Assert.Single((await h.GetAsync(user, "/api/v1/alias/recipients")).GetProperty("recipients").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("pgpFingerprint").ValueKind);
    }

    [Fact]
    public async Task SetPgp_AnotherAccountsRecipient_IsNotFound()
    {
        await using var h = await AliasHarness.StartAsync();
        var (_, recipient) = await h.UserWithRecipientAsync("me@mailbox.test");
        var stranger = await h.Server.RegisterUserAsync();

        using var response = await SetKeyAsync(h, stranger, recipient, NewKey(h).PublicKey.ToArmored());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static string Armored(string message)
    {
        var start = message.IndexOf("-----BEGIN PGP MESSAGE-----", StringComparison.Ordinal);
        var end = message.IndexOf("-----END PGP MESSAGE-----", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "no armored OpenPGP message in the copy");
        return message[start..(end + "-----END PGP MESSAGE-----".Length)] + "\r\n";
    }

    /// <summary>gpg 2.2 in a throwaway home: imports the secret key and decrypts the armored message (the server clock is in 2030: gpg is told to accept keys "from the future").</summary>
    private static async Task<string> GpgDecryptAsync(byte[] secretKey, string armored)
    {
        MailSink.RequirePeer(File.Exists("/usr/bin/gpg"), "gnupg");
        var home = Directory.CreateTempSubdirectory("veil-gpg-");
        try
        {
            async Task<byte[]> Gpg(byte[] input, params string[] args)
            {
                var info = new ProcessStartInfo("/usr/bin/gpg") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var arg in new[] { "--homedir", home.FullName, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--ignore-time-conflict", "--ignore-valid-from" }.Concat(args))
                {
                    info.ArgumentList.Add(arg);
                }

                using var process = Process.Start(info)!;
                var stdout = new MemoryStream();
                var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
                var stderr = process.StandardError.ReadToEndAsync();
                await process.StandardInput.BaseStream.WriteAsync(input);
                process.StandardInput.Close();
                await process.WaitForExitAsync();
                await copy;
                Assert.True(process.ExitCode == 0, $"gpg {string.Join(' ', args)}: {await stderr}");
                return stdout.ToArray();
            }

            await Gpg(secretKey, "--import");
            return Encoding.UTF8.GetString(await Gpg(Encoding.ASCII.GetBytes(armored), "--decrypt"));
        }
        finally
        {
            using (var kill = Process.Start(new ProcessStartInfo("/usr/bin/gpgconf", ["--homedir", home.FullName, "--kill", "all"]) { UseShellExecute = false }))
            {
                kill?.WaitForExit();
            }

            home.Delete(recursive: true);
        }
    }
}
