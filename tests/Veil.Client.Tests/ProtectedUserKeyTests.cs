using Veil.Client.Crypto;
using Veil.Crypto.Client;
using Veil.Crypto.Memory;
using Veil.Crypto.Primitives;

namespace Veil.Client.Tests;

public sealed class ProtectedUserKeyTests
{
    // Cheap Argon2id for tests of the wrapping logic; the production cost is covered by one test below.
    private static readonly Argon2Parameters Cheap = new(8 * 1024, 1, 1);
    private static readonly byte[] Salt = [.. Enumerable.Range(1, 16).Select(i => (byte)i)];

    private static DerivedKeys Derive(string password, byte[]? salt = null) =>
        PasswordKeys.Derive(password, "Alice@Example.org", salt ?? Salt, Cheap, Cheap);

    private static byte[] Bytes(SecretBytes secret)
    {
        using var lease = secret.Acquire();
        return lease.Span.ToArray();
    }

    [Fact]
    public void Wrap_ThenUnwrapWithSameKey_ReturnsTheUserKey()
    {
        using var keys = Derive("correct horse");
        using var userKey = ProtectedUserKey.NewUserKey();

        var wrapped = ProtectedUserKey.Wrap(keys.EncryptionKey, userKey);
        using var opened = ProtectedUserKey.TryUnwrap(keys.EncryptionKey, wrapped);

        Assert.NotNull(opened);
        Assert.Equal(Bytes(userKey), Bytes(opened));
    }

    [Fact]
    public void Wrap_HasTheV1Format_99AsciiCharacters()
    {
        using var keys = Derive("correct horse");
        using var userKey = ProtectedUserKey.NewUserKey();

        var wrapped = ProtectedUserKey.Wrap(keys.EncryptionKey, userKey);

        Assert.StartsWith("v1.", wrapped, StringComparison.Ordinal);
        Assert.Equal(99, wrapped.Length);
        Assert.Matches("^v1\\.[A-Za-z0-9_-]{96}$", wrapped);
    }

    [Fact]
    public void Wrap_Twice_UsesFreshNonces()
    {
        using var keys = Derive("correct horse");
        using var userKey = ProtectedUserKey.NewUserKey();

        Assert.NotEqual(ProtectedUserKey.Wrap(keys.EncryptionKey, userKey), ProtectedUserKey.Wrap(keys.EncryptionKey, userKey));
    }

    [Fact]
    public void Unwrap_WithWrongPassword_ReturnsNull()
    {
        using var right = Derive("correct horse");
        using var wrong = Derive("correct horsf");
        using var userKey = ProtectedUserKey.NewUserKey();
        var wrapped = ProtectedUserKey.Wrap(right.EncryptionKey, userKey);

        Assert.Null(ProtectedUserKey.TryUnwrap(wrong.EncryptionKey, wrapped));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("v1.")]
    [InlineData("v2.AAAA")]
    [InlineData("v1.!!!!")]
    public void Unwrap_Malformed_ReturnsNull(string? wrapped)
    {
        using var keys = Derive("correct horse");

        Assert.Null(ProtectedUserKey.TryUnwrap(keys.EncryptionKey, wrapped));
    }

    [Fact]
    public void Unwrap_AnyFlippedCharacter_ReturnsNull()
    {
        using var keys = Derive("correct horse");
        using var userKey = ProtectedUserKey.NewUserKey();
        var wrapped = ProtectedUserKey.Wrap(keys.EncryptionKey, userKey);

        for (var i = 3; i < wrapped.Length; i++)
        {
            var chars = wrapped.ToCharArray();
            chars[i] = chars[i] == 'A' ? 'B' : 'A';
            Assert.Null(ProtectedUserKey.TryUnwrap(keys.EncryptionKey, new string(chars)));
        }
    }

    [Fact]
    public void PasswordChange_RewrapUnderNewPasswordAndSalt_KeepsTheSameUserKey()
    {
        using var oldKeys = Derive("old password");
        using var userKey = ProtectedUserKey.NewUserKey();
        var stored = ProtectedUserKey.Wrap(oldKeys.EncryptionKey, userKey);
        var newSalt = CryptoRandom.Bytes(16);

        var rewrapped = UserKeyRewrap.Rewrap(stored, oldKeys, "new password", "alice@example.org", newSalt, Cheap, Cheap, out var newAuth);
        using var newKeys = Derive("new password", newSalt);
        using var opened = ProtectedUserKey.TryUnwrap(newKeys.EncryptionKey, rewrapped);

        Assert.NotNull(opened);
        Assert.Equal(Bytes(userKey), Bytes(opened));
        Assert.Null(ProtectedUserKey.TryUnwrap(oldKeys.EncryptionKey, rewrapped));
        Assert.Equal(Bytes(newKeys.AuthenticationToken), Convert.FromBase64String(newAuth.Replace('-', '+').Replace('_', '/') + "="));
    }

    [Fact]
    public void PasswordChange_WithWrongCurrentPassword_FailsWithoutProducingAWrap()
    {
        using var right = Derive("old password");
        using var wrong = Derive("not the password");
        using var userKey = ProtectedUserKey.NewUserKey();
        var stored = ProtectedUserKey.Wrap(right.EncryptionKey, userKey);

        Assert.Throws<VeilWrongPasswordException>(() =>
            UserKeyRewrap.Rewrap(stored, wrong, "new password", "alice@example.org", CryptoRandom.Bytes(16), Cheap, Cheap, out _));
    }

    [Fact]
    public void Derive_ProductionCost_MatchesClientKeyDerivation()
    {
        using var viaClient = PasswordKeys.Derive("pw", "a@b.c", Salt, ClientKeyDerivation.StretchParameters, ClientKeyDerivation.StretchParameters);
        using var viaCrypto = ClientKeyDerivation.Derive("pw", "a@b.c", Salt);

        Assert.Equal(Bytes(viaCrypto.EncryptionKey), Bytes(viaClient.EncryptionKey));
        Assert.Equal(Bytes(viaCrypto.AuthenticationToken), Bytes(viaClient.AuthenticationToken));
    }

    [Fact]
    public void Derive_OtherParameters_FollowTheSamePipeline()
    {
        // The custom-parameter path must equal ClientKeyDerivation's pipeline: compare the enc key
        // with an independent computation (Argon2id + HKDF by hand).
        using var keys = PasswordKeys.Derive("pw", " A@B.c ", Salt, Cheap, Cheap);
        var stretched = new byte[32];
        Argon2id.DeriveBytes("pwa@b.c"u8, Salt, Cheap, stretched);
        var enc = new byte[32];
        Hkdf.DeriveSha256(stretched, default, "veil/v1/client/enc"u8, enc);

        Assert.Equal(enc, Bytes(keys.EncryptionKey));
    }

    [Fact]
    public void Derive_ParametersBelowTheFloor_AreRefused()
    {
        Assert.Throws<VeilKdfException>(() =>
            PasswordKeys.Derive("pw", "a@b.c", Salt, Cheap, ClientKeyDerivation.StretchParameters));
    }
}
