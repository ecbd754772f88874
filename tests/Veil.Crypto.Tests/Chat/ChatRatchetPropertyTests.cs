// Property tests of the Double Ratchet and the message parsers (CsCheck: generated inputs, shrinking on failure).
using CsCheck;
using Veil.Crypto.Chat;

namespace Veil.Crypto.Tests.Chat;

public sealed class ChatRatchetPropertyTests
{
    private const int ChainLength = 200;

    [Fact]
    public void Any_permutation_of_200_messages_decrypts_each_exactly_once()
    {
        Gen.Int[0, ChainLength - 1].Array[ChainLength].Select(_ => Enumerable.Range(0, ChainLength).ToArray())
            .SelectMany(Gen.Shuffle)
            .Sample(order =>
            {
                using var pair = new ChatPair();
                var messages = Enumerable.Range(0, ChainLength).Select(i => pair.Alice.Encrypt("m" + i)).ToArray();
                foreach (var i in order)
                {
                    Assert.Equal("m" + i, pair.Bob.ReceiveText(messages[i]));
                }

                foreach (var i in order.Take(20))
                {
                    Assert.Equal(ChatDecryptStatus.Duplicate, pair.Bob.Receive(messages[i]).Status);
                }

                Assert.Equal(0, pair.Bob.Record.Current!.StoredSkippedKeys);
            }, iter: 25);
    }

    [Fact]
    public void Messages_interleaved_across_ratchet_steps_all_decrypt_once()
    {
        // Three sending chains from Alice (Bob answers between them), delivered in one shuffled batch.
        Gen.Int.Sample(seed =>
        {
            using var pair = new ChatPair();
            var sent = new List<(string Text, ChatCiphertext Message)>();
            for (var chain = 0; chain < 3; chain++)
            {
                for (var i = 0; i < 30; i++)
                {
                    sent.Add(($"c{chain}m{i}", pair.Alice.Encrypt($"c{chain}m{i}")));
                }

                Assert.Equal("ack", pair.Alice.ReceiveText(pair.Bob.Encrypt("ack")));
            }

            var random = new Random(seed);
            foreach (var (text, message) in sent.OrderBy(_ => random.Next()))
            {
                Assert.Equal(text, pair.Bob.ReceiveText(message));
                Assert.Equal(ChatDecryptStatus.Duplicate, pair.Bob.Receive(message).Status);
            }
        }, iter: 10);
    }

    [Fact]
    public void A_jump_of_25001_is_refused_25000_accepted_and_skipped_keys_beyond_2000_are_evicted_oldest_first()
    {
        using var pair = new ChatPair();
        var messages = new ChatCiphertext[ChatSessionLimits.MaxForwardJumps + 2];
        for (var i = 0; i < messages.Length; i++)
        {
            messages[i] = pair.Alice.Encrypt("n" + i);
        }

        // Alice's chain is new to Bob (index 0): counter 25,001 is a jump of 25,001.
        Assert.Equal(ChatDecryptStatus.TooFarAhead, pair.Bob.Receive(messages[25_001]).Status);
        Assert.Equal(1, pair.Bob.Record.Current!.ReceiverChainCount);

        Assert.Equal("n25000", pair.Bob.ReceiveText(messages[25_000]));
        Assert.Equal(ChatSessionLimits.MaxMessageKeys, pair.Bob.Record.Current!.StoredSkippedKeys);
        Assert.Equal(ChatDecryptStatus.Duplicate, pair.Bob.Receive(messages[22_999]).Status);
        Assert.Equal("n23000", pair.Bob.ReceiveText(messages[23_000]));
        Assert.Equal("n25001", pair.Bob.ReceiveText(messages[25_001]));

        // Within one chain: 2,001 skipped keys, the oldest goes first.
        var more = Enumerable.Range(0, 2_002).Select(i => pair.Alice.Encrypt("k" + i)).ToArray();
        Assert.Equal("k2001", pair.Bob.ReceiveText(more[2_001]));
        Assert.Equal(ChatDecryptStatus.Duplicate, pair.Bob.Receive(more[0]).Status);
        Assert.Equal("k1", pair.Bob.ReceiveText(more[1]));
    }

    [Fact]
    public void Simultaneous_initiation_converges_on_one_session()
    {
        using var pair = new ChatPair(established: false);
        pair.Alice.Initiate(pair.Bob);
        pair.Bob.Initiate(pair.Alice);
        var fromAlice = pair.Alice.Encrypt("a1");
        var fromBob = pair.Bob.Encrypt("b1");
        Assert.True(fromAlice.IsPreKey && fromBob.IsPreKey);

        Assert.Equal("b1", pair.Alice.ReceiveText(fromBob));
        Assert.Equal("a1", pair.Bob.ReceiveText(fromAlice));

        // Each side now sends with the session the other started; the receiver finds it archived and promotes it.
        Assert.Equal("a2", pair.Bob.ReceiveText(pair.Alice.Encrypt("a2")));
        Assert.Equal("b2", pair.Alice.ReceiveText(pair.Bob.Encrypt("b2")));
        for (var i = 0; i < 5; i++)
        {
            var a = pair.Alice.Encrypt("a" + i);
            var b = pair.Bob.Encrypt("b" + i);
            Assert.False(a.IsPreKey || b.IsPreKey);
            Assert.Equal("a" + i, pair.Bob.ReceiveText(a));
            Assert.Equal("b" + i, pair.Alice.ReceiveText(b));
        }

        Assert.True(pair.Alice.Record.Current!.RemoteIdentityKey.Equals(pair.Bob.Device.IdentityKey.PublicKey));
        Assert.Equal(pair.Alice.Record.Current!.AliceBaseKey, pair.Bob.Record.Current!.AliceBaseKey);
    }

    [Fact]
    public void Every_parser_survives_100000_mutated_inputs_with_a_clean_refusal()
    {
        using var pair = new ChatPair(established: false);
        pair.Alice.Initiate(pair.Bob, withOneTime: false);
        var preKey = pair.Alice.Encrypt("first").Serialized;
        var inner = PreKeySignalMessage.TryParse(pair.Alice.Encrypt("second").Serialized)!.Message.Serialized;
        Assert.Equal(ChatDecryptStatus.Ok, pair.Bob.Receive(preKey, isPreKey: true).Status);
        var seeds = new[] { preKey, inner };

        // PreKeySignalMessages go to a scratch record (X3DH each time); SignalMessages to Bob's live session.
        var scratch = new SessionRecord();
        var mutations = Gen.Select(Gen.Int[0, 1], Gen.Int[0, 3], Gen.Int[0, int.MaxValue], Gen.Byte, Gen.Byte.Array[0, 12]);
        var decrypted = 0;
        mutations.Sample((which, kind, position, value, insert) =>
        {
            var input = Mutate(seeds[which], kind, position, value, insert);
            _ = SignalMessage.TryParse(input);
            _ = PreKeySignalMessage.TryParse(input);
            var status = which == 0
                ? SessionCipher.DecryptPreKey(scratch, pair.Bob.Device, pair.Bob.RegistrationId, pair.Bob, input).Status
                : SessionCipher.Decrypt(pair.Bob.Record, input).Status;
            if (status == ChatDecryptStatus.Ok)
            {
                decrypted++;
                scratch.Dispose();
                scratch = new SessionRecord();
            }
        }, iter: 100_000, threads: 1);
        scratch.Dispose();

        // The MAC covers everything but the PreKeySignalMessage's unauthenticated envelope fields (as in
        // Signal), so only a few mutations that leave the ratchet message intact can decrypt.
        Assert.True(decrypted < 5_000, $"{decrypted} mutated inputs decrypted");
        Assert.Equal("third", pair.Bob.ReceiveText(pair.Alice.Encrypt("third")));
    }

    private static byte[] Mutate(byte[] seed, int kind, int position, byte value, byte[] insert)
    {
        var at = position % (seed.Length + 1);
        return kind switch
        {
            0 => Flip(seed, at % seed.Length, value),
            1 => seed[..at],
            2 => [.. seed[..at], .. insert, .. seed[at..]],
            _ => [.. seed[..at], .. seed[Math.Min(seed.Length, at + 1 + (value % 8))..]],
        };
    }

    private static byte[] Flip(byte[] seed, int at, byte value)
    {
        var copy = (byte[])seed.Clone();
        copy[at] ^= value;
        return copy;
    }

    [Fact]
    public void Padding_round_trips_and_refuses_anything_else()
    {
        Gen.Byte.Array[0, 500].Sample(message =>
        {
            var padded = ChatPadding.Pad(message);
            Assert.Equal(ChatPadding.Block - 1, padded.Length % ChatPadding.Block);
            Assert.Equal(message, ChatPadding.TryUnpad(padded));
        });
        Assert.Null(ChatPadding.TryUnpad([1, 2, 0, 0]));
        Assert.Null(ChatPadding.TryUnpad([0, 0]));
        Assert.Null(ChatPadding.TryUnpad([]));
    }
}
