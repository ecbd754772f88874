// The stored form of a session record: a record read back continues the conversation exactly where the original
// would (skipped keys, pending prekey state, archived states included), and anything that is not a whole
// version-1 record is refused without an exception.
using System.Text;
using Veil.Crypto.Chat;

namespace Veil.Crypto.Tests.Chat;

public sealed class SessionRecordFormatTests
{
    [Fact]
    public void Parse_OfSerialize_ContinuesTheConversation_WithSkippedKeysAndArchivedStates()
    {
        using var pair = new ChatPair();
        // A second X3DH archives the first state on both sides; a delayed message leaves skipped keys at Bob.
        pair.Alice.Initiate(pair.Bob);
        Assert.Equal("again", pair.Bob.ReceiveText(pair.Alice.Encrypt("again")));
        Assert.Equal("seen", pair.Alice.ReceiveText(pair.Bob.Encrypt("seen")));
        var delayed = pair.Alice.Encrypt("delayed");
        Assert.Equal("after", pair.Bob.ReceiveText(pair.Alice.Encrypt("after")));
        Assert.True(pair.Bob.Record.Current!.StoredSkippedKeys > 0);

        var bobBytes = SessionRecordFormat.Serialize(pair.Bob.Record);
        var aliceBytes = SessionRecordFormat.Serialize(pair.Alice.Record);
        using var bob = SessionRecordFormat.TryParse(bobBytes)!;
        using var alice = SessionRecordFormat.TryParse(aliceBytes)!;

        Assert.Equal(bobBytes, SessionRecordFormat.Serialize(bob));
        Assert.Equal(pair.Bob.Record.Archived.Count, bob.Archived.Count);
        Assert.Equal("delayed", Text(SessionCipher.Decrypt(bob, delayed.Serialized)));
        var reply = SessionCipher.Encrypt(bob, "reply"u8);
        Assert.False(reply.IsPreKey);
        Assert.Equal("reply", Text(SessionCipher.Decrypt(alice, reply.Serialized)));
        Assert.False(alice.Current!.HasPendingPreKey);
    }

    [Fact]
    public void Parse_OfAnInitiatorsRecordBeforeAnyAnswer_KeepsSendingPreKeyMessages()
    {
        using var pair = new ChatPair(established: false);
        pair.Alice.Initiate(pair.Bob);

        using var alice = SessionRecordFormat.TryParse(SessionRecordFormat.Serialize(pair.Alice.Record))!;

        var first = SessionCipher.Encrypt(alice, "first"u8);
        Assert.True(first.IsPreKey);
        Assert.Equal("first", pair.Bob.ReceiveText(first));
    }

    [Fact]
    public void TryParse_TruncatedExtendedOrOtherVersion_ReturnsNull()
    {
        using var pair = new ChatPair();
        var bytes = SessionRecordFormat.Serialize(pair.Alice.Record);

        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Null(SessionRecordFormat.TryParse(bytes.AsSpan(0, length)));
        }

        Assert.Null(SessionRecordFormat.TryParse([.. bytes, 0]));
        var otherVersion = (byte[])bytes.Clone();
        otherVersion[0] = 2;
        Assert.Null(SessionRecordFormat.TryParse(otherVersion));
        var badKeyType = (byte[])bytes.Clone();
        badKeyType[2] = 0x06; // the local identity's 0x05 type byte
        Assert.Null(SessionRecordFormat.TryParse(badKeyType));
    }

    [Fact]
    public void Serialize_OfAnEmptyRecord_ParsesToAnEmptyRecord()
    {
        using var empty = new SessionRecord();

        using var parsed = SessionRecordFormat.TryParse(SessionRecordFormat.Serialize(empty))!;

        Assert.Null(parsed.Current);
        Assert.Empty(parsed.Archived);
    }

    private static string Text(ChatDecryptResult result)
    {
        Assert.Equal(ChatDecryptStatus.Ok, result.Status);
        return Encoding.UTF8.GetString(result.Plaintext!);
    }
}
