using System.Text;
using System.Text.Json;
using Veil.Client.Mailbox;
using Veil.Crypto.Memory;
using Veil.Crypto.OpenPgp;

namespace Veil.Client.Tests.Mailbox;

/// <summary>
/// spec/vectors/mail-address-v1.json, read by the SDK exactly as the web page reads it (web/test/mail-address-vectors.test.ts):
/// the chain user key → token → address secret key ring, and what that key opens — a summary sealed the way the
/// server seals inbound mail, and a message signed and encrypted the way a Veil client sends it.
/// </summary>
public sealed class AddressKeyVectorTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-12-07T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Chain_OpensToTheVectorsKeyRing_AndTheRingOpensTheSealedSummaryAndTheSignedMessage()
    {
        var v = Vector();
        using var userKey = SecretBytes.Copy(Convert.FromHexString(v.GetProperty("user_key").GetString()!));
        var address = v.GetProperty("address").GetString()!;

        var ring = AddressKeyChain.TryOpen(userKey, address, v.GetProperty("wrapped_token").GetString()!, v.GetProperty("wrapped_private_key").GetString()!);

        Assert.NotNull(ring);
        Assert.Equal(v.GetProperty("secret_key_ring").GetString(), Convert.ToHexStringLower(ring));
        Assert.Equal(v.GetProperty("public_key").GetString(), AddressKeys.PublicKeyOf(ring, Now));
        var summary = AddressKeys.Decrypt(ring, new MemoryStream(Convert.FromBase64String(v.GetProperty("sealed_summary").GetString()!)), Now);
        Assert.Equal(v.GetProperty("summary").GetString(), Encoding.UTF8.GetString(summary));
        var sender = OpenPgpPublicKey.Parse(v.GetProperty("sender_public_key").GetString()!, Now).Key!;
        var message = AddressKeys.Decrypt(ring, new MemoryStream(Convert.FromBase64String(v.GetProperty("sealed_message").GetString()!)), Now, [sender], out var signature);
        Assert.Equal(v.GetProperty("message").GetString(), Encoding.UTF8.GetString(message));
        Assert.Equal(OpenPgpSignatureStatus.Valid, signature);
    }

    [Theory]
    [InlineData("other@mail.example", null)] // the wrapped strings moved to another address's row
    [InlineData(null, "user_key")]           // another account's user key
    public void Chain_UnderAnotherAddressOrUserKey_DoesNotOpen(string? otherAddress, string? flipIn)
    {
        var v = Vector();
        var key = Convert.FromHexString(v.GetProperty("user_key").GetString()!);
        if (flipIn is not null)
        {
            key[0] ^= 1;
        }

        using var userKey = SecretBytes.Copy(key);

        Assert.Null(AddressKeyChain.TryOpen(userKey, otherAddress ?? v.GetProperty("address").GetString()!, v.GetProperty("wrapped_token").GetString()!, v.GetProperty("wrapped_private_key").GetString()!));
    }

    private static JsonElement Vector()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "spec", "vectors", "mail-address-v1.json");
            if (File.Exists(path))
            {
                return JsonDocument.Parse(File.ReadAllBytes(path)).RootElement.GetProperty("chain");
            }
        }

        throw new FileNotFoundException("spec/vectors/mail-address-v1.json not found");
    }
}
