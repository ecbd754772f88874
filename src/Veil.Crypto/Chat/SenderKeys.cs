// Sender keys for group messages (spec/chat-wire.md §7): libsignal's v3 sender-key construction and layouts,
// with Ed25519 signatures (no XEdDSA). Each member has one sending chain per distribution id and sends its
// distribution message to every member over their 1:1 sessions; a group message is then encrypted once.
//
//   seed = HMAC-SHA256(ck, 0x01); ck' = HMAC-SHA256(ck, 0x02)
//   iv || key = HKDF-SHA256(salt = zeros, ikm = seed, info = "WhisperGroup", L = 48)   (iv [0:16], key [16:48])
//   ciphertext = AES-256-CBC/PKCS#7(key, iv, pad160(plaintext))
//   SenderKeyMessage = 0x33 || protobuf { 1: distribution id (16), 2: chain id, 3: iteration, 4: ciphertext }
//                      || Ed25519(signing key, "veil/chat/v1/sender-key-message" || 0x33 || protobuf) (64)
//   SenderKeyDistributionMessage = 0x33 || protobuf { 1: distribution id (16), 2: chain id, 3: iteration,
//                                                     4: chain key (32), 5: signing key (32, Ed25519) }
//
// Limits as libsignal: 25,000 forward jumps, 2,000 skipped keys per chain (oldest evicted), 5 chains per
// sender and distribution (a new distribution message adds a chain; the oldest is dropped).
using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Chat;

/// <summary>One sender-key chain: the sender's own (with its signing key) or one received from a member.</summary>
public sealed class SenderKeyState : IDisposable
{
    internal SenderKeyState(Guid distributionId, uint chainId, uint iteration, byte[] chainKey, Ed25519PublicKey signingKey, Ed25519PrivateKey? signingPrivate)
    {
        DistributionId = distributionId;
        ChainId = chainId;
        Iteration = iteration;
        ChainKey = chainKey;
        SigningKey = signingKey;
        SigningPrivate = signingPrivate;
    }

    /// <summary>The group distribution this chain belongs to.</summary>
    public Guid DistributionId { get; }

    /// <summary>The chain's random id.</summary>
    public uint ChainId { get; }

    /// <summary>The next iteration (message number) of the chain.</summary>
    public uint Iteration { get; internal set; }

    /// <summary>How many skipped message keys are stored (at most 2,000).</summary>
    public int StoredSkippedKeys => Skipped.Count;

    internal byte[] ChainKey { get; set; }

    internal Ed25519PublicKey SigningKey { get; }

    internal Ed25519PrivateKey? SigningPrivate { get; }

    internal List<(uint Index, byte[] Seed)> Skipped { get; } = [];

    /// <summary>Wipes the chain key, the skipped keys and the signing key.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(ChainKey);
        Skipped.ForEach(s => CryptographicOperations.ZeroMemory(s.Seed));
        SigningPrivate?.Dispose();
    }
}

/// <summary>All sender-key chains one device holds for one (sender, distribution): newest first, at most 5.</summary>
public sealed class SenderKeyRecord : IDisposable
{
    /// <summary>Chains kept per record: 5.</summary>
    public const int MaxStates = 5;

    private readonly List<SenderKeyState> _states = [];

    /// <summary>The chains, newest first.</summary>
    public IReadOnlyList<SenderKeyState> States => _states;

    internal void Add(SenderKeyState state)
    {
        _states.Insert(0, state);
        if (_states.Count > MaxStates)
        {
            _states[^1].Dispose();
            _states.RemoveAt(_states.Count - 1);
        }
    }

    internal SenderKeyState? Find(Guid distributionId, uint chainId) =>
        _states.Find(s => s.DistributionId == distributionId && s.ChainId == chainId);

    /// <summary>Wipes every chain.</summary>
    public void Dispose()
    {
        _states.ForEach(s => s.Dispose());
        _states.Clear();
    }
}

/// <summary>Sender-key group encryption.</summary>
public static class GroupCipher
{
    private const int SignatureLength = Ed25519PrivateKey.SignatureLength;

    private static ReadOnlySpan<byte> KeysInfo => "WhisperGroup"u8;

    private static ReadOnlySpan<byte> SignatureLabel => "veil/chat/v1/sender-key-message"u8;

    /// <summary>
    /// The distribution message for our chain in <paramref name="own"/> (creating the chain on first use), to send
    /// to each member over the 1:1 sessions.
    /// </summary>
    public static byte[] CreateDistribution(SenderKeyRecord own, Guid distributionId)
    {
        ArgumentNullException.ThrowIfNull(own);
        var state = own.States.FirstOrDefault(s => s.DistributionId == distributionId && s.SigningPrivate is not null);
        if (state is null)
        {
            var signing = Ed25519PrivateKey.Generate();
            state = new SenderKeyState(
                distributionId, BinaryPrimitives.ReadUInt32BigEndian(CryptoRandom.Bytes(4)) & 0x7FFFFFFF, 0, CryptoRandom.Bytes(32), signing.PublicKey, signing);
            own.Add(state);
        }

        return Serialize(o =>
        {
            WriteHeader(o, state.DistributionId, state.ChainId, state.Iteration);
            o.WriteTag(4, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(state.ChainKey));
            o.WriteTag(5, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(state.SigningKey.Bytes));
        });
    }

    /// <summary>Stores a member's distribution message; false if it is malformed. A chain already held is kept as is.</summary>
    public static bool ProcessDistribution(SenderKeyRecord record, ReadOnlySpan<byte> message)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (message.Length < 1 || !ChatMessageVersion.IsV3(message[0]))
        {
            return false;
        }

        var fields = ReadFields(message[1..]);
        if (fields is not { ChainKey: { Length: 32 } chainKey, SigningKey: { Length: Ed25519PublicKey.Length } signingKey } f)
        {
            return false;
        }

        if (record.Find(f.DistributionId, f.ChainId) is null)
        {
            record.Add(new SenderKeyState(f.DistributionId, f.ChainId, f.Iteration, chainKey, Ed25519PublicKey.Import(signingKey), null));
        }

        return true;
    }

    /// <summary>Encrypts (padded) with our chain for <paramref name="distributionId"/>.</summary>
    /// <exception cref="InvalidOperationException">No distribution was created for this id.</exception>
    public static byte[] Encrypt(SenderKeyRecord own, Guid distributionId, ReadOnlySpan<byte> plaintext)
    {
        ArgumentNullException.ThrowIfNull(own);
        var state = own.States.FirstOrDefault(s => s.DistributionId == distributionId && s.SigningPrivate is not null)
            ?? throw new InvalidOperationException("Create the distribution message before encrypting.");
        Span<byte> seed = stackalloc byte[32];
        Span<byte> next = stackalloc byte[32];
        try
        {
            RatchetKdf.Step(state.ChainKey, seed, next);
            var ciphertext = Cbc(seed, ChatPadding.Pad(plaintext), encrypt: true)!;
            var body = Serialize(o =>
            {
                WriteHeader(o, distributionId, state.ChainId, state.Iteration);
                o.WriteTag(4, WireFormat.WireType.LengthDelimited);
                o.WriteBytes(ByteString.CopyFrom(ciphertext));
            });
            var signature = state.SigningPrivate!.Sign([.. SignatureLabel, .. body]);
            next.CopyTo(state.ChainKey);
            state.Iteration++;
            return [.. body, .. signature];
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
            CryptographicOperations.ZeroMemory(next);
        }
    }

    /// <summary>Decrypts a member's group message; the record changes only on success.</summary>
    public static ChatDecryptResult Decrypt(SenderKeyRecord record, ReadOnlySpan<byte> message)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (message.Length < 1 + SignatureLength || !ChatMessageVersion.IsV3(message[0]))
        {
            return new ChatDecryptResult(ChatDecryptStatus.Malformed);
        }

        var body = message[..^SignatureLength];
        var fields = ReadFields(body[1..]);
        if (fields is not { Ciphertext: { } ciphertext } f)
        {
            return new ChatDecryptResult(ChatDecryptStatus.Malformed);
        }

        var state = record.Find(f.DistributionId, f.ChainId);
        if (state is null)
        {
            return new ChatDecryptResult(ChatDecryptStatus.NoSession);
        }

        if (!state.SigningKey.Verify([.. SignatureLabel, .. body], message[^SignatureLength..]))
        {
            return new ChatDecryptResult(ChatDecryptStatus.InvalidMessage);
        }

        byte[] seed;
        var skippedSlot = -1;
        List<(uint Index, byte[] Seed)>? newlySkipped = null;
        byte[]? nextChainKey = null;
        if (f.Iteration < state.Iteration)
        {
            skippedSlot = state.Skipped.FindIndex(s => s.Index == f.Iteration);
            if (skippedSlot < 0)
            {
                return new ChatDecryptResult(ChatDecryptStatus.Duplicate);
            }

            seed = state.Skipped[skippedSlot].Seed;
        }
        else
        {
            if (f.Iteration - state.Iteration > ChatSessionLimits.MaxForwardJumps)
            {
                return new ChatDecryptResult(ChatDecryptStatus.TooFarAhead);
            }

            (seed, nextChainKey, newlySkipped) = RatchetKdf.Walk(state.ChainKey, state.Iteration, f.Iteration);
        }

        var padded = Cbc(seed, ciphertext, encrypt: false);
        var plaintext = padded is null ? null : ChatPadding.TryUnpad(padded);
        if (plaintext is null)
        {
            return new ChatDecryptResult(ChatDecryptStatus.InvalidMessage);
        }

        if (skippedSlot >= 0)
        {
            CryptographicOperations.ZeroMemory(state.Skipped[skippedSlot].Seed);
            state.Skipped.RemoveAt(skippedSlot);
        }
        else
        {
            RatchetKdf.StoreSkipped(state.Skipped, newlySkipped!);
            state.ChainKey = nextChainKey!;
            state.Iteration = f.Iteration + 1;
        }

        return new ChatDecryptResult(ChatDecryptStatus.Ok, plaintext);
    }

    private sealed record Fields(Guid DistributionId, uint ChainId, uint Iteration, byte[]? Ciphertext, byte[]? ChainKey, byte[]? SigningKey);

    private static Fields? ReadFields(ReadOnlySpan<byte> proto)
    {
        byte[]? id = null, ciphertext = null, signing = null;
        uint? chainId = null;
        uint iteration = 0;
        var ok = ProtoReader.Read(proto, (input, tag) =>
        {
            switch (tag)
            {
                case 10: id = input.ReadBytes().ToByteArray(); return true;
                case 16: chainId = input.ReadUInt32(); return true;
                case 24: iteration = input.ReadUInt32(); return true;
                case 34: ciphertext = input.ReadBytes().ToByteArray(); return true;
                case 42: signing = input.ReadBytes().ToByteArray(); return true;
                default: return false;
            }
        });

        // Field 4 is the ciphertext of a message and the chain key of a distribution; the caller picks.
        return ok && id is { Length: 16 } && chainId is not null
            ? new Fields(new Guid(id, bigEndian: true), chainId.Value, iteration, ciphertext, ciphertext, signing)
            : null;
    }

    private static void WriteHeader(CodedOutputStream o, Guid distributionId, uint chainId, uint iteration)
    {
        o.WriteTag(1, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(distributionId.ToByteArray(bigEndian: true)));
        o.WriteTag(2, WireFormat.WireType.Varint);
        o.WriteUInt32(chainId);
        o.WriteTag(3, WireFormat.WireType.Varint);
        o.WriteUInt32(iteration);
    }

    private static byte[] Serialize(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        stream.WriteByte(ChatMessageVersion.V3Byte);
        var output = new CodedOutputStream(stream);
        write(output);
        output.Flush();
        return stream.ToArray();
    }

    private static byte[]? Cbc(ReadOnlySpan<byte> seed, ReadOnlySpan<byte> input, bool encrypt)
    {
        Span<byte> keys = stackalloc byte[48];
        var key = new byte[32];
        try
        {
            Hkdf.DeriveSha256(seed, [], KeysInfo, keys);
            keys[16..].CopyTo(key);
            using var aes = Aes.Create();
            aes.Key = key;
            if (encrypt)
            {
                return aes.EncryptCbc(input, keys[..16], PaddingMode.PKCS7);
            }

            if (input.Length == 0 || input.Length % 16 != 0)
            {
                return null;
            }

            var output = new byte[input.Length];
            return aes.TryDecryptCbc(input, keys[..16], output, out var written, PaddingMode.PKCS7) ? output[..written] : null;
        }
        catch (CryptographicException)
        {
            // Bad PKCS#7 padding under a valid signature: the sender is broken; refuse the message.
            return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keys);
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
