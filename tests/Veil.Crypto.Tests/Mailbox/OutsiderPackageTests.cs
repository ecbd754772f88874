using System.Text;
using System.Text.Json.Nodes;
using Veil.Crypto.Mailbox;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Tests.Mailbox;

/// <summary>Password mail packages and replies, v1 (spec/mailbox-api.md "Password mail to outsiders").</summary>
public sealed class OutsiderPackageTests
{
    private const string Password = "otter lantern 91";

    [Fact]
    public async Task Seal_MatchesTheSpecVector_AndOpens()
    {
        var root = JsonNode.Parse(await File.ReadAllTextAsync(VectorFiles.SpecPath("mail-outsider-v1.json")))!;
        foreach (var vector in root["packages"]!.AsArray())
        {
            var cost = new Argon2Parameters((int)vector!["memoryKiB"]!, (int)vector["iterations"]!, (int)vector["lanes"]!);
            var replyKey = X25519PublicKey.Import(Convert.FromHexString((string)vector["reply_public_key"]!));
            var mime = Convert.FromHexString((string)vector["mime"]!);
            var password = (string)vector["password"]!;
            var expected = Convert.FromHexString((string)vector["package"]!);

            var package = OutsiderPackage.Seal(mime, replyKey, password, cost, Convert.FromHexString((string)vector["salt"]!), Convert.FromHexString((string)vector["nonce"]!));

            Assert.Equal(expected, package);
            var opened = OutsiderPackage.TryOpen(expected, password);
            Assert.NotNull(opened);
            Assert.Equal(mime, opened.Mime);
            Assert.Equal(replyKey, opened.ReplyKey);
        }
    }

    [Fact]
    public void TryOpen_WrongPassword_ReturnsNull()
    {
        using var reply = X25519PrivateKey.Generate();
        var package = OutsiderPackage.Seal("Subject: hi\r\n\r\nbody"u8, reply.PublicKey, Password);

        Assert.Null(OutsiderPackage.TryOpen(package, Password + " "));
        Assert.NotNull(OutsiderPackage.TryOpen(package, Password));
    }

    [Theory]
    [InlineData(0)] // version
    [InlineData(4)] // memory (lowered)
    [InlineData(12)] // salt
    [InlineData(30)] // nonce
    [InlineData(-1)] // tag
    public void TryOpen_AnyByteChanged_ReturnsNull(int index)
    {
        using var reply = X25519PrivateKey.Generate();
        var package = OutsiderPackage.Seal("Subject: hi\r\n\r\nbody"u8, reply.PublicKey, Password);
        package[index < 0 ? package.Length + index : index] ^= 0x01;

        Assert.Null(OutsiderPackage.TryOpen(package, Password));
    }

    [Fact]
    public void TryOpen_CostAboveTheReadersLimit_ReturnsNullWithoutDeriving()
    {
        using var reply = X25519PrivateKey.Generate();
        var package = OutsiderPackage.Seal("x"u8, reply.PublicKey, Password);
        package[1] = 0x7f; // about 2 TiB of memory: refused before Argon2id runs

        Assert.Null(OutsiderPackage.TryOpen(package, Password));
    }

    [Fact]
    public void Reply_OpensWithTheReplyKeyOnly()
    {
        using var reply = X25519PrivateKey.Generate();
        using var other = X25519PrivateKey.Generate();
        var sealedReply = OutsiderPackage.SealReply(reply.PublicKey, Encoding.UTF8.GetBytes("thanks ✓"));

        Assert.Equal("thanks ✓", Encoding.UTF8.GetString(OutsiderPackage.TryOpenReply(reply, sealedReply)!));
        Assert.Null(OutsiderPackage.TryOpenReply(other, sealedReply));
        sealedReply[^1] ^= 1;
        Assert.Null(OutsiderPackage.TryOpenReply(reply, sealedReply));
    }
}
