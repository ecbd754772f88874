// The stored form of a SessionRecord (spec/chat-client.md §3), so a client can keep its sessions in its
// encrypted store between runs. Version 1, fixed-width fields, big-endian integers:
//
//   record = 0x01 || has_current (u8: 0/1) || [state] || archived_count (u8, ≤ 40) || state × archived_count (newest first)
//   state  = local_identity (33) || remote_identity (33) || local_registration (u32) || remote_registration (u32)
//            || alice_base_key (32) || root_key (32) || sender_ratchet_private (32) || sender_chain_key (32)
//            || sender_index (u32) || previous_counter (u32)
//            || pending (u8: 0 none, 1 without one-time prekey, 2 with) || [prekey_id (u32) if 2]
//               || [signed_prekey_id (u32) || base_key (32) if 1 or 2]
//            || chain_count (u8, ≤ 5) || chain × chain_count (oldest first)
//   chain  = ratchet_key (32) || chain_key (32) || index (u32) || skipped_count (u16, ≤ 2000)
//            || (index (u32) || seed (32)) × skipped_count (oldest first)
//
// The bytes hold every secret of the sessions (root, chain and ratchet keys, skipped seeds): they exist only to be
// sealed at once by the caller's store and must be wiped after. Parsing refuses (returns null) any other version,
// a truncated or over-long input, a count over its limit, a public key that is not Signal's 33-byte form, and
// trailing bytes; it never throws on bad input.
using System.Buffers.Binary;
using System.Security.Cryptography;
using Veil.Crypto.Primitives;

namespace Veil.Crypto.Chat;

/// <summary>Serialises and parses <see cref="SessionRecord"/> for a client's encrypted store (format version 1).</summary>
public static class SessionRecordFormat
{
    /// <summary>The format version byte.</summary>
    public const byte Version = 1;

    private const int KeyLength = 32;

    /// <summary>The record's bytes (secret: seal them and wipe this array).</summary>
    public static byte[] Serialize(SessionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var output = new MemoryStream();
        output.WriteByte(Version);
        output.WriteByte(record.Current is null ? (byte)0 : (byte)1);
        if (record.Current is not null)
        {
            Write(output, record.Current);
        }

        output.WriteByte((byte)record.Archived.Count);
        foreach (var state in record.Archived)
        {
            Write(output, state);
        }

        var bytes = output.ToArray();
        CryptographicOperations.ZeroMemory(output.GetBuffer());
        return bytes;
    }

    /// <summary>The record stored in <paramref name="bytes"/>, or null when they are not a version-1 record.</summary>
    public static SessionRecord? TryParse(ReadOnlySpan<byte> bytes)
    {
        var reader = new Reader(bytes);
        var record = new SessionRecord();
        var states = new List<SessionState>();
        try
        {
            if (reader.U8() != Version)
            {
                return null;
            }

            var hasCurrent = reader.U8();
            if (hasCurrent > 1)
            {
                return null;
            }

            SessionState? current = hasCurrent == 1 ? ReadState(ref reader) : null;
            if (current is not null)
            {
                states.Add(current);
            }

            var archived = reader.U8();
            if (archived > ChatSessionLimits.MaxArchivedStates || (current is null && archived > 0))
            {
                return null;
            }

            var older = new List<SessionState>();
            for (var i = 0; i < archived; i++)
            {
                var state = ReadState(ref reader);
                states.Add(state);
                older.Add(state);
            }

            if (!reader.AtEnd)
            {
                return null;
            }

            // Install archives the previous current state at the front: install oldest first, the current last.
            for (var i = older.Count - 1; i >= 0; i--)
            {
                record.Install(older[i]);
            }

            if (current is not null)
            {
                record.Install(current);
            }

            states.Clear();
            return record;
        }
        catch (FormatException)
        {
            states.ForEach(s => s.Dispose());
            return null;
        }
    }

    private static void Write(MemoryStream output, SessionState state)
    {
        output.Write(state.LocalIdentity);
        output.Write(state.RemoteIdentity);
        U32(output, state.LocalRegistrationId);
        U32(output, state.RemoteRegistrationId);
        output.Write(state.AliceBaseKey.Bytes);
        Key(output, state.RootKey);
        Span<byte> ratchet = stackalloc byte[KeyLength];
        try
        {
            state.SenderRatchet.ExportPrivateKey(ratchet);
            output.Write(ratchet);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ratchet);
        }

        Key(output, state.SenderChainKey);
        U32(output, state.SenderIndex);
        U32(output, state.PreviousCounter);
        if (state.Pending is null)
        {
            output.WriteByte(0);
        }
        else
        {
            output.WriteByte(state.Pending.PreKeyId is null ? (byte)1 : (byte)2);
            if (state.Pending.PreKeyId is { } preKeyId)
            {
                U32(output, preKeyId);
            }

            U32(output, state.Pending.SignedPreKeyId);
            output.Write(state.Pending.BaseKey.Bytes);
        }

        output.WriteByte((byte)state.ReceiverChains.Count);
        foreach (var chain in state.ReceiverChains)
        {
            output.Write(chain.RatchetKey.Bytes);
            Key(output, chain.ChainKey);
            U32(output, chain.Index);
            output.WriteByte((byte)(chain.Skipped.Count >> 8));
            output.WriteByte((byte)chain.Skipped.Count);
            foreach (var (index, seed) in chain.Skipped)
            {
                U32(output, index);
                Key(output, seed);
            }
        }
    }

    private static SessionState ReadState(ref Reader reader)
    {
        var local = ChatPublicKey.TryParse(reader.Bytes(ChatPublicKey.Length)) ?? throw new FormatException();
        var remote = ChatPublicKey.TryParse(reader.Bytes(ChatPublicKey.Length)) ?? throw new FormatException();
        var localRegistration = reader.U32();
        var remoteRegistration = reader.U32();
        var aliceBaseKey = X25519PublicKey.Import(reader.Bytes(KeyLength));
        var rootKey = reader.Bytes(KeyLength).ToArray();
        var ratchet = X25519PrivateKey.Import(reader.Bytes(KeyLength));
        var senderChainKey = reader.Bytes(KeyLength).ToArray();
        var state = new SessionState(local, remote, localRegistration, remoteRegistration, aliceBaseKey, rootKey, ratchet, senderChainKey);
        try
        {
            state.SenderIndex = reader.U32();
            state.PreviousCounter = reader.U32();
            var pending = reader.U8();
            if (pending > 2)
            {
                throw new FormatException();
            }

            if (pending > 0)
            {
                uint? preKeyId = pending == 2 ? reader.U32() : null;
                var signedPreKeyId = reader.U32();
                state.Pending = new PendingPreKey(preKeyId, signedPreKeyId, X25519PublicKey.Import(reader.Bytes(KeyLength)));
            }

            var chains = reader.U8();
            if (chains > ChatSessionLimits.MaxReceiverChains)
            {
                throw new FormatException();
            }

            for (var c = 0; c < chains; c++)
            {
                var chain = new ReceiverChain(X25519PublicKey.Import(reader.Bytes(KeyLength)), reader.Bytes(KeyLength).ToArray()) { Index = reader.U32() };
                var skipped = reader.U16();
                if (skipped > ChatSessionLimits.MaxMessageKeys)
                {
                    throw new FormatException();
                }

                for (var s = 0; s < skipped; s++)
                {
                    chain.Skipped.Add((reader.U32(), reader.Bytes(KeyLength).ToArray()));
                }

                state.ReceiverChains.Add(chain);
            }

            return state;
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    private static void Key(MemoryStream output, byte[] key)
    {
        if (key.Length != KeyLength)
        {
            throw new InvalidOperationException("A session key is not 32 bytes.");
        }

        output.Write(key);
    }

    private static void U32(MemoryStream output, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        output.Write(bytes);
    }

    /// <summary>A bounds-checked cursor; running past the end is a <see cref="FormatException"/>.</summary>
    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _position;

        public readonly bool AtEnd => _position == _bytes.Length;

        public ReadOnlySpan<byte> Bytes(int length)
        {
            if (_bytes.Length - _position < length)
            {
                throw new FormatException();
            }

            var slice = _bytes.Slice(_position, length);
            _position += length;
            return slice;
        }

        public byte U8() => Bytes(1)[0];

        public ushort U16() => BinaryPrimitives.ReadUInt16BigEndian(Bytes(2));

        public uint U32() => BinaryPrimitives.ReadUInt32BigEndian(Bytes(4));
    }
}
