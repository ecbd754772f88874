// AliasSrs: the SRS addresses Veil issues are bound to the alias they were forwarded through (issue 14, point 2).
using Veil.Crypto.Keys;
using Veil.Server.Alias;
using Veil.Server.Tests.Kit;

#pragma warning disable CA1716 // "Alias" is a Visual Basic keyword; the folder and module are named Alias on purpose.
namespace Veil.Server.Tests.Alias;
#pragma warning restore CA1716

public sealed class AliasSrsTests : IDisposable
{
    private static readonly Guid AliasA = Guid.Parse("0f8b2d1e-1111-4c3a-9d4e-aaaaaaaaaaaa");
    private static readonly Guid AliasB = Guid.Parse("0f8b2d1e-2222-4c3a-9d4e-bbbbbbbbbbbb");
    private readonly Keyring _keyring = new KeyringBuilder().Add("srs", 1, Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()).Build();
    private readonly AliasSrs _srs;

    public AliasSrsTests() => _srs = new AliasSrs(_keyring, new ManualTimeProvider());

    public void Dispose() => _keyring.Dispose();

    [Fact]
    public void Forward_IsAValidSrs0AddressBoundToItsAliasOnly_EvenWithItsCaseChanged()
    {
        var address = _srs.Forward("jane@sender.test", "alias.test", AliasA);

        Assert.Matches("^SRS0=[^=]{12}=[A-Z2-7]{2}=sender\\.test=jane@alias\\.test$", address);
        Assert.True(_srs.IsValid(address));
        Assert.True(_srs.IsBoundTo(address, AliasA));
        Assert.True(_srs.IsBoundTo(address.ToUpperInvariant(), AliasA));
        Assert.False(_srs.IsBoundTo(address, AliasB));
    }

    [Fact]
    public void IsBoundTo_TagOfAnotherAliasOrNoTag_IsFalse()
    {
        var a = _srs.Forward("jane@sender.test", "alias.test", AliasA);
        var b = _srs.Forward("jane@sender.test", "alias.test", AliasB);
        var swapped = a[..9] + b[9..17] + a[17..]; // A's address with B's tag
        var untagged = a[..9] + a[17..];

        Assert.Equal(b, swapped); // the same sender on the same day: only the tag tells the aliases apart
        Assert.False(_srs.IsBoundTo(swapped, AliasA));
        Assert.False(_srs.IsBoundTo(a[..9] + "aaaaaaaa" + a[17..], AliasA));
        Assert.True(_srs.IsValid(untagged)); // issued before tags: still accepted at RCPT …
        Assert.False(_srs.IsBoundTo(untagged, AliasA)); // … but counts for no alias
    }

    [Fact]
    public void Forward_LongSender_StaysWithin64OctetsAndBound_SenderInTheAliasDomainIsKept()
    {
        var address = _srs.Forward(new string('x', 60) + "@a-rather-long-sender-domain.example", "alias.test", AliasA);
        Assert.True(address.IndexOf('@', StringComparison.Ordinal) <= 64, address);
        Assert.True(_srs.IsBoundTo(address, AliasA));

        Assert.Equal("someone@alias.test", _srs.Forward("someone@alias.test", "alias.test", AliasA));
        Assert.Equal("", _srs.Forward("", "alias.test", AliasA));
    }
}
