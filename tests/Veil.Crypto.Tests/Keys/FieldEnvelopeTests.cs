using System.Text;
using Veil.Crypto.Keys;

namespace Veil.Crypto.Tests.Keys;

public sealed class FieldEnvelopeTests
{
    private static readonly FieldContext Context = new("accounts", "email", "row-1");
    private static readonly byte[] Plaintext = "canary-plaintext@example.org"u8.ToArray();

    [Fact]
    public void SealThenOpen_SameContext_ReturnsPlaintext()
    {
        using var keyring = TestKeyrings.Create(1);

        var envelope = FieldEnvelope.Seal(keyring, Context, Plaintext);

        Assert.Equal(Plaintext, FieldEnvelope.Open(keyring, Context, envelope));
    }

    [Fact]
    public void Seal_Layout_IsVersionKeyIdNonceCiphertextTag()
    {
        using var keyring = TestKeyrings.Create(1, 258);

        var envelope = FieldEnvelope.Seal(keyring, Context, Plaintext);

        Assert.Equal(1 + 2 + 12 + Plaintext.Length + 16, envelope.Length);
        Assert.Equal(FieldEnvelope.Version, envelope[0]);
        Assert.Equal([0x01, 0x02], envelope[1..3]);
        Assert.Equal((ushort)258, FieldEnvelope.KeyVersionOf(envelope));
    }

    [Fact]
    public void Seal_SameValueTwice_UsesFreshNonces()
    {
        using var keyring = TestKeyrings.Create(1);

        Assert.NotEqual(FieldEnvelope.Seal(keyring, Context, Plaintext), FieldEnvelope.Seal(keyring, Context, Plaintext));
    }

    [Theory]
    [InlineData("accounts", "email", "row-2")]
    [InlineData("accounts", "recovery_email", "row-1")]
    [InlineData("aliases", "email", "row-1")]
    [InlineData("accounts\0email", "", "row-1")]
    public void Open_OtherContext_ReturnsNull(string table, string column, string row)
    {
        using var keyring = TestKeyrings.Create(1);
        var envelope = FieldEnvelope.Seal(keyring, Context, Plaintext);

        var moved = Record.Exception(() => FieldEnvelope.Open(keyring, new FieldContext(table, column, row), envelope));

        // A NUL in a name is misuse (ArgumentException); every other move fails authentication.
        if (table.Contains('\0', StringComparison.Ordinal))
        {
            Assert.IsType<ArgumentException>(moved);
        }
        else
        {
            Assert.Null(moved);
            Assert.Null(FieldEnvelope.Open(keyring, new FieldContext(table, column, row), envelope));
        }
    }

    [Fact]
    public void Open_EveryFlippedBit_ReturnsNull()
    {
        using var keyring = TestKeyrings.Create(1);
        var envelope = FieldEnvelope.Seal(keyring, Context, Plaintext);

        for (var bit = 0; bit < envelope.Length * 8; bit++)
        {
            var tampered = (byte[])envelope.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Null(FieldEnvelope.Open(keyring, Context, tampered));
        }
    }

    [Fact]
    public void Open_Truncated_ReturnsNull()
    {
        using var keyring = TestKeyrings.Create(1);
        var envelope = FieldEnvelope.Seal(keyring, Context, Plaintext);

        for (var length = 0; length < envelope.Length; length++)
        {
            Assert.Null(FieldEnvelope.Open(keyring, Context, envelope.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Open_AfterRotation_OldEnvelopeStillOpensAndNewOnesUseNewKey()
    {
        var v1 = new byte[32];
        v1[0] = 1;
        var v2 = new byte[32];
        v2[0] = 2;
        using var before = TestKeyrings.FromMaterial(("field", 1, v1));
        using var after = TestKeyrings.FromMaterial(("field", 1, v1), ("field", 2, v2));
        var old = FieldEnvelope.Seal(before, Context, Plaintext);

        var fresh = FieldEnvelope.Seal(after, Context, Plaintext);

        Assert.Equal(Plaintext, FieldEnvelope.Open(after, Context, old));
        Assert.Equal((ushort)2, FieldEnvelope.KeyVersionOf(fresh));
        Assert.Null(FieldEnvelope.Open(before, Context, fresh));
    }

    [Fact]
    public void Open_KeyIdRelabelled_ReturnsNull()
    {
        var material = new byte[32];
        using var keyring = TestKeyrings.FromMaterial(("field", 1, material), ("field", 2, material));
        var envelope = FieldEnvelope.Seal(keyring, Context, Plaintext);

        // Even with identical material, a header naming another version no longer authenticates.
        envelope[2] = 1;

        Assert.Null(FieldEnvelope.Open(keyring, Context, envelope));
    }

    [Fact]
    public void Open_UnknownVersionByte_ReturnsNull()
    {
        using var keyring = TestKeyrings.Create(1);
        var envelope = FieldEnvelope.Seal(keyring, Context, Plaintext);
        envelope[0] = 2;

        Assert.Null(FieldEnvelope.Open(keyring, Context, envelope));
        Assert.Null(FieldEnvelope.KeyVersionOf(envelope));
    }

    [Fact]
    public void SealThenOpen_EmptyAndUnicodeValues_RoundTrip()
    {
        using var keyring = TestKeyrings.Create(1);
        var unicode = Encoding.UTF8.GetBytes("zoë@exämple.org ✉");

        Assert.Equal([], FieldEnvelope.Open(keyring, Context, FieldEnvelope.Seal(keyring, Context, []))!);
        Assert.Equal(unicode, FieldEnvelope.Open(keyring, new FieldContext("t", "c", "é"), FieldEnvelope.Seal(keyring, new FieldContext("t", "c", "é"), unicode)));
    }

    [Fact]
    public void TryOpen_WrongBufferLength_Throws()
    {
        using var keyring = TestKeyrings.Create(1);
        var envelope = FieldEnvelope.Seal(keyring, Context, Plaintext);

        Assert.Throws<ArgumentException>(() => FieldEnvelope.TryOpen(keyring, Context, envelope, new byte[Plaintext.Length + 1]));
    }
}
