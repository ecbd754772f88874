// Sender-key group messages: distribution, encryption once for all members, limits, signatures, junk.
using CsCheck;
using Veil.Crypto.Chat;

namespace Veil.Crypto.Tests.Chat;

public sealed class SenderKeyTests
{
    private static readonly Guid Group = Guid.Parse("5a1b2c3d-0000-4000-8000-00000000abcd");

    private static (SenderKeyRecord Own, SenderKeyRecord Member) Distributed()
    {
        var own = new SenderKeyRecord();
        var member = new SenderKeyRecord();
        Assert.True(GroupCipher.ProcessDistribution(member, GroupCipher.CreateDistribution(own, Group)));
        return (own, member);
    }

    private static string Open(SenderKeyRecord member, byte[] message)
    {
        var result = GroupCipher.Decrypt(member, message);
        Assert.Equal(ChatDecryptStatus.Ok, result.Status);
        return System.Text.Encoding.UTF8.GetString(result.Plaintext!);
    }

    [Fact]
    public void Any_permutation_of_200_group_messages_decrypts_each_exactly_once()
    {
        Gen.Int.Sample(seed =>
        {
            var (own, member) = Distributed();
            using (own)
            using (member)
            {
                var messages = Enumerable.Range(0, 200).Select(i => GroupCipher.Encrypt(own, Group, System.Text.Encoding.UTF8.GetBytes("g" + i))).ToArray();
                var random = new Random(seed);
                foreach (var i in Enumerable.Range(0, 200).OrderBy(_ => random.Next()))
                {
                    Assert.Equal("g" + i, Open(member, messages[i]));
                    Assert.Equal(ChatDecryptStatus.Duplicate, GroupCipher.Decrypt(member, messages[i]).Status);
                }

                Assert.Equal(0, member.States[0].StoredSkippedKeys);
            }
        }, iter: 20);
    }

    [Fact]
    public void A_jump_of_25001_is_refused_and_skipped_keys_beyond_2000_are_evicted_oldest_first()
    {
        var (own, member) = Distributed();
        using (own)
        using (member)
        {
            var messages = Enumerable.Range(0, 25_002).Select(i => GroupCipher.Encrypt(own, Group, [(byte)i])).ToArray();
            Assert.Equal(ChatDecryptStatus.TooFarAhead, GroupCipher.Decrypt(member, messages[25_001]).Status);
            Assert.Equal(ChatDecryptStatus.Ok, GroupCipher.Decrypt(member, messages[25_000]).Status);
            Assert.Equal(ChatSessionLimits.MaxMessageKeys, member.States[0].StoredSkippedKeys);
            Assert.Equal(ChatDecryptStatus.Duplicate, GroupCipher.Decrypt(member, messages[22_999]).Status);
            Assert.Equal(ChatDecryptStatus.Ok, GroupCipher.Decrypt(member, messages[23_000]).Status);
        }
    }

    [Fact]
    public void A_message_signed_by_another_key_or_altered_is_refused_and_changes_nothing()
    {
        var (own, member) = Distributed();
        using var impostor = new SenderKeyRecord();
        using (own)
        using (member)
        {
            var genuine = GroupCipher.Encrypt(own, Group, "real"u8);
            for (var i = 0; i < genuine.Length; i++)
            {
                var altered = (byte[])genuine.Clone();
                altered[i] ^= 0x04;
                Assert.NotEqual(ChatDecryptStatus.Ok, GroupCipher.Decrypt(member, altered).Status);
            }

            // The same body signed by another key (say, a member who knows the chain key): refused.
            using var other = Veil.Crypto.Primitives.Ed25519PrivateKey.Generate();
            var body = genuine[..^64];
            byte[] forged = [.. body, .. other.Sign([.. "veil/chat/v1/sender-key-message"u8, .. body])];
            Assert.Equal(ChatDecryptStatus.InvalidMessage, GroupCipher.Decrypt(member, forged).Status);

            Assert.Equal(ChatDecryptStatus.NoSession, GroupCipher.Decrypt(impostor, genuine).Status);
            Assert.Equal("real", Open(member, genuine));
        }
    }

    [Fact]
    public void A_member_keeps_at_most_5_chains_per_sender()
    {
        using var member = new SenderKeyRecord();
        for (var i = 0; i < 7; i++)
        {
            using var own = new SenderKeyRecord();
            Assert.True(GroupCipher.ProcessDistribution(member, GroupCipher.CreateDistribution(own, Group)));
        }

        Assert.Equal(SenderKeyRecord.MaxStates, member.States.Count);
    }

    [Fact]
    public void Group_parsers_survive_100000_mutated_inputs()
    {
        var (own, member) = Distributed();
        using (own)
        using (member)
        {
            var distribution = GroupCipher.CreateDistribution(own, Group);
            var message = GroupCipher.Encrypt(own, Group, "m"u8);
            using var scratch = new SenderKeyRecord();
            Gen.Select(Gen.Int[0, int.MaxValue], Gen.Byte, Gen.Bool).Sample((position, value, which) =>
            {
                var seed = which ? distribution : message;
                var input = (byte[])seed.Clone();
                input[position % input.Length] ^= (byte)(value | 1);
                _ = GroupCipher.ProcessDistribution(scratch, input);
                Assert.NotEqual(ChatDecryptStatus.Ok, GroupCipher.Decrypt(member, input).Status);
            }, iter: 100_000, threads: 1);
            Assert.Equal("m", Open(member, message));
        }
    }
}
