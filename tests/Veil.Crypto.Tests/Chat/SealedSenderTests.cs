// Sealed sender v1 envelopes and Veil's sender certificates.
using CsCheck;
using Veil.Crypto.Chat;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Tests.Chat;

public sealed class SealedSenderTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 6, 0, 0, TimeSpan.Zero);
    private readonly Ed25519PrivateKey _trustRoot = Ed25519PrivateKey.Generate();
    private readonly Ed25519PrivateKey _serverKey = Ed25519PrivateKey.Generate();
    private readonly X25519PrivateKey _sender = X25519PrivateKey.Generate();
    private readonly X25519PrivateKey _recipient = X25519PrivateKey.Generate();

    private byte[] Certificate(X25519PublicKey identity, DateTimeOffset? expires = null) =>
        ChatSenderCertificate.Issue(
            _serverKey, ChatSenderCertificate.IssueServerCertificate(_trustRoot, 1, _serverKey.PublicKey),
            "account-1", 2, identity, expires ?? Now + ChatSenderCertificate.Lifetime);

    private SealedContent Content(X25519PublicKey? claimed = null) =>
        new(SealedContentType.Message, Certificate(claimed ?? _sender.PublicKey), "ratchet message"u8.ToArray(), ContentHint: 1);

    [Fact]
    public void Sealed_content_opens_for_the_recipient_with_the_proven_sender_and_a_valid_certificate()
    {
        var envelope = SealedSender.Seal(_sender, _recipient.PublicKey, Content())!;
        Assert.Equal(SealedSender.Version, envelope[0]);

        var opened = SealedSender.Open(_recipient, envelope);

        Assert.NotNull(opened);
        Assert.Equal(_sender.PublicKey, opened.SenderIdentity);
        Assert.Equal("ratchet message"u8.ToArray(), opened.Content.Content);
        Assert.Equal(SealedContentType.Message, opened.Content.Type);
        Assert.Equal(1u, opened.Content.ContentHint);
        var certificate = ChatSenderCertificate.TryParse(opened.Content.SenderCertificate)!;
        Assert.Equal(("account-1", 2u), (certificate.SenderId, certificate.DeviceId));
        Assert.True(certificate.Validate(_trustRoot.PublicKey, Now));
        // Nothing in the envelope names the sender in the clear.
        Assert.Equal(-1, envelope.AsSpan().IndexOf(_sender.PublicKey.Bytes));
        Assert.Equal(-1, envelope.AsSpan().IndexOf("account-1"u8));
    }

    [Fact]
    public void Certificates_expire_after_24_hours_and_need_the_trusted_root_and_server_key()
    {
        var certificate = ChatSenderCertificate.TryParse(Certificate(_sender.PublicKey))!;
        using var otherRoot = Ed25519PrivateKey.Generate();
        using var otherServer = Ed25519PrivateKey.Generate();
        var forged = ChatSenderCertificate.TryParse(ChatSenderCertificate.Issue(
            otherServer, ChatSenderCertificate.IssueServerCertificate(_trustRoot, 1, _serverKey.PublicKey), "account-1", 2, _sender.PublicKey, Now.AddHours(1)))!;

        Assert.True(certificate.Validate(_trustRoot.PublicKey, Now.AddHours(24).AddTicks(-1)));
        Assert.False(certificate.Validate(_trustRoot.PublicKey, Now.AddHours(24)));
        Assert.False(certificate.Validate(otherRoot.PublicKey, Now));
        Assert.False(forged.Validate(_trustRoot.PublicKey, Now));
    }

    [Fact]
    public void A_certificate_for_another_identity_is_refused_when_opening()
    {
        using var someoneElse = X25519PrivateKey.Generate();
        var envelope = SealedSender.Seal(_sender, _recipient.PublicKey, Content(claimed: someoneElse.PublicKey))!;

        Assert.Null(SealedSender.Open(_recipient, envelope));
    }

    [Fact]
    public void Only_the_recipient_opens_and_every_altered_byte_is_refused()
    {
        var envelope = SealedSender.Seal(_sender, _recipient.PublicKey, Content())!;
        using var other = X25519PrivateKey.Generate();
        Assert.Null(SealedSender.Open(other, envelope));
        for (var i = 0; i < envelope.Length; i++)
        {
            var altered = (byte[])envelope.Clone();
            altered[i] ^= 0x20;
            Assert.Null(SealedSender.Open(_recipient, altered));
        }
    }

    [Fact]
    public void Low_order_recipient_keys_are_refused_when_sealing()
    {
        var points = ChatInputs.LowOrderPoints();
        Assert.Equal(31, points.Count);
        foreach (var point in points)
        {
            Assert.Null(SealedSender.Seal(_sender, point, Content()));
        }
    }

    [Fact]
    public void Envelope_and_certificate_parsers_survive_100000_mutated_inputs()
    {
        var envelope = SealedSender.Seal(_sender, _recipient.PublicKey, Content())!;
        var certificate = Certificate(_sender.PublicKey);
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.Byte, Gen.Int[0, 2]).Sample((position, value, kind) =>
        {
            var seed = kind == 0 ? certificate : envelope;
            var at = position % seed.Length;
            var input = kind == 2 ? seed[..at] : (byte[])seed.Clone();
            if (kind != 2)
            {
                input[at] ^= (byte)(value | 1);
            }

            _ = ChatSenderCertificate.TryParse(input)?.Validate(_trustRoot.PublicKey, Now);
            var opened = SealedSender.Open(_recipient, input);

            // Only the version byte's low nibble is outside the MACs (as in libsignal); anything else must be refused.
            var lowNibbleOnly = kind == 1 && at == 0 && input[0] >> 4 == 1;
            Assert.True(opened is null || lowNibbleOnly);
        }, iter: 100_000, threads: 1);
    }

    public void Dispose()
    {
        _trustRoot.Dispose();
        _serverKey.Dispose();
        _sender.Dispose();
        _recipient.Dispose();
    }
}
