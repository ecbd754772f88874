// The backup envelope (spec/backup.md): recipient strings carry a checksum; every recipient opens the payload; another
// identity does not; an altered stanza of another recipient breaks the payload's commitment; a cut file never ends well.
using System.Security.Cryptography;
using System.Text;
using Veil.Crypto.Backup;
using Veil.Crypto.Streams;

namespace Veil.Crypto.Tests.Backup;

public sealed class BackupEnvelopeTests
{
    private static async Task<byte[]> SealAsync(byte[] payload, params BackupRecipient[] recipients)
    {
        using var output = new MemoryStream();
        await using (var stream = await BackupEnvelope.CreateAsync(output, recipients))
        {
            await stream.WriteAsync(payload);
            await stream.CompleteAsync();
        }

        return output.ToArray();
    }

    private static async Task<(BackupOpenStatus Status, byte[]? Payload)> OpenAsync(byte[] file, BackupIdentity identity)
    {
        var opened = await BackupEnvelope.OpenAsync(new MemoryStream(file), identity);
        if (opened.Payload is null)
        {
            return (opened.Status, null);
        }

        await using var payload = opened.Payload;
        using var plain = new MemoryStream();
        try
        {
            await payload.CopyToAsync(plain);
        }
        catch (CobblestoneAuthenticationException)
        {
            return (BackupOpenStatus.Damaged, null);
        }

        return (opened.Status, plain.ToArray());
    }

    [Fact]
    public void Recipient_RoundTrips_AndAMistypedOneIsRefused()
    {
        using var identity = BackupIdentity.Generate();
        var text = identity.Recipient.ToString();
        Assert.StartsWith("veil-backup1", text, StringComparison.Ordinal);
        Assert.True(BackupRecipient.TryParse(text, out var parsed));
        Assert.Equal(identity.Recipient, parsed);

        var mistyped = text[..^3] + (text[^3] == 'A' ? 'B' : 'A') + text[^2..];
        Assert.False(BackupRecipient.TryParse(mistyped, out _));
        Assert.False(BackupRecipient.TryParse(text[..^1], out _));
        Assert.False(BackupRecipient.TryParse("age1" + text[12..], out _));
    }

    [Fact]
    public void Identity_ExportedAndParsed_HasTheSameRecipient()
    {
        using var identity = BackupIdentity.Generate();
        var exported = identity.ExportUtf8();
        using var parsed = BackupIdentity.Parse(exported);
        Assert.NotNull(parsed);
        Assert.Equal(identity.Recipient, parsed.Recipient);
        Assert.Contains(identity.Recipient.ToString(), Encoding.UTF8.GetString(exported), StringComparison.Ordinal);
        Assert.Null(BackupIdentity.Parse(Encoding.UTF8.GetBytes(identity.Recipient.ToString())));
    }

    [Fact]
    public async Task EveryRecipient_OpensThePayload_AnotherIdentityDoesNot()
    {
        using var alice = BackupIdentity.Generate();
        using var bob = BackupIdentity.Generate();
        using var mallory = BackupIdentity.Generate();
        var payload = RandomNumberGenerator.GetBytes(100_000);
        var file = await SealAsync(payload, alice.Recipient, bob.Recipient);

        Assert.Equal(payload, (await OpenAsync(file, alice)).Payload);
        Assert.Equal(payload, (await OpenAsync(file, bob)).Payload);
        Assert.Equal(BackupOpenStatus.NotForThisIdentity, (await OpenAsync(file, mallory)).Status);
    }

    [Fact]
    public async Task AlteredStanzaOfAnotherRecipient_BreaksThePayloadCommitment()
    {
        using var alice = BackupIdentity.Generate();
        using var bob = BackupIdentity.Generate();
        var file = await SealAsync(RandomNumberGenerator.GetBytes(1000), alice.Recipient, bob.Recipient);
        file[9 + 80 + 40] ^= 0x01; // inside the second stanza's wrapped key

        Assert.Equal(BackupOpenStatus.Damaged, (await OpenAsync(file, alice)).Status);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16_416)] // exactly one encrypted chunk: the file ends on a chunk boundary
    [InlineData(5)]
    public async Task TruncatedOrFlippedFile_NeverOpensWhole(int cut)
    {
        using var alice = BackupIdentity.Generate();
        var file = await SealAsync(RandomNumberGenerator.GetBytes(70_000), alice.Recipient);

        Assert.NotEqual(BackupOpenStatus.Opened, (await OpenAsync(file[..^cut], alice)).Status);
        var flipped = (byte[])file.Clone();
        flipped[file.Length - cut] ^= 0x20;
        Assert.NotEqual(BackupOpenStatus.Opened, (await OpenAsync(flipped, alice)).Status);
        Assert.Equal(BackupOpenStatus.NotABackup, (await OpenAsync(Encoding.ASCII.GetBytes("not a backup at all"), alice)).Status);
    }
}
