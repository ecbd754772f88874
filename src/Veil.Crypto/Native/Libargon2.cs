// Libargon2: P/Invoke declarations for the reference Argon2 library (libargon2, the PHC winner's
// reference code as packaged by Debian in libargon2-1).
//
// Veil uses argon2_ctx rather than the argon2id_hash_raw convenience function because only the
// context form takes the optional secret (K) and associated data (X) of RFC 9106 §3.1, and because
// libsodium's crypto_pwhash cannot run with more than one lane. The struct layout below mirrors
// `argon2_context` in argon2.h (version 20171227): pointers and 32-bit lengths interleaved, two
// function pointers for custom allocation (left null: the library allocates and wipes its memory).
//
// Reference: RFC 9106; https://github.com/P-H-C/phc-winner-argon2 include/argon2.h
using System.Runtime.InteropServices;

namespace Veil.Crypto.Native;

/// <summary>libargon2 bindings.</summary>
internal static unsafe partial class Libargon2
{
    /// <summary><c>Argon2_id</c> in the <c>argon2_type</c> enumeration.</summary>
    internal const int TypeId = 2;

    /// <summary><c>ARGON2_VERSION_13</c> (0x13 = 19), the only version Veil produces or accepts.</summary>
    internal const uint Version13 = 0x13;

    /// <summary><c>ARGON2_OK</c>.</summary>
    internal const int Ok = 0;

    /// <summary>Loads libargon2 or throws <see cref="NativeLibraryMissingException"/>.</summary>
    internal static void EnsureLoaded() => NativeLibraries.Load(NativeLibraries.Argon2);

    /// <summary>Mirror of <c>argon2_context</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Argon2Context
    {
        public byte* Out;
        public uint OutLength;
        public byte* Password;
        public uint PasswordLength;
        public byte* Salt;
        public uint SaltLength;
        public byte* Secret;
        public uint SecretLength;
        public byte* AssociatedData;
        public uint AssociatedDataLength;
        public uint TimeCost;
        public uint MemoryCost;
        public uint Lanes;
        public uint Threads;
        public uint Version;
        public nint AllocateCallback;
        public nint FreeCallback;
        public uint Flags;
    }

    [LibraryImport(NativeLibraries.Argon2)]
    internal static partial int argon2_ctx(Argon2Context* context, int type);
}
