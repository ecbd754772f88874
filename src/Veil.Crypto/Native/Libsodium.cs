// Libsodium: source-generated P/Invoke declarations for the libsodium 1.0.18 functions Veil uses,
// and the one-time, thread-safe sodium_init.
//
// Every public Veil.Crypto entry point that reaches libsodium calls Libsodium.EnsureInitialized()
// first: it registers the import resolver, loads the library (throwing NativeLibraryMissingException
// with the package name if it is absent) and runs sodium_init, which libsodium requires before any
// other call. Pointers are passed from `fixed` spans at the call sites; lengths are checked by the
// managed wrappers before a call, never left to the native side.
//
// Reference: https://doc.libsodium.org/ (1.0.18): usage, public-key signatures, sealed boxes,
// point*scalar multiplication, XChaCha20-Poly1305-IETF, ChaCha20-Poly1305-IETF, secure memory.
using System.Runtime.InteropServices;

namespace Veil.Crypto.Native;

/// <summary>libsodium bindings. All lengths are validated by the callers.</summary>
internal static unsafe partial class Libsodium
{
    private static readonly Lock s_initLock = new();
    private static bool s_initialized;

    internal const int ScalarMultBytes = 32;
    internal const int SignPublicKeyBytes = 32;
    internal const int SignSecretKeyBytes = 64;
    internal const int SignSeedBytes = 32;
    internal const int SignBytes = 64;
    internal const int BoxSealBytes = 48;
    internal const int AeadKeyBytes = 32;
    internal const int AeadTagBytes = 16;
    internal const int XChaChaNonceBytes = 24;
    internal const int ChaChaIetfNonceBytes = 12;

    /// <summary>Loads libsodium and runs <c>sodium_init</c> exactly once per process.</summary>
    /// <exception cref="NativeLibraryMissingException">libsodium is not installed.</exception>
    internal static void EnsureInitialized()
    {
        if (Volatile.Read(ref s_initialized))
        {
            return;
        }

        lock (s_initLock)
        {
            if (s_initialized)
            {
                return;
            }

            NativeLibraries.Load(NativeLibraries.Sodium);

            // 0: initialised now; 1: already initialised (by another component of the process); -1: failure.
            if (sodium_init() < 0)
            {
                throw new InvalidOperationException("libsodium failed to initialise (sodium_init returned -1).");
            }

            Volatile.Write(ref s_initialized, true);
        }
    }

    /// <summary>Whether libsodium can be loaded, without throwing. Initialises it if so.</summary>
    internal static bool TryEnsureInitialized()
    {
        if (Volatile.Read(ref s_initialized))
        {
            return true;
        }

        if (!NativeLibraries.TryLoad(NativeLibraries.Sodium, out _))
        {
            return false;
        }

        EnsureInitialized();
        return true;
    }

    [LibraryImport(NativeLibraries.Sodium)]
    private static partial int sodium_init();

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial void* sodium_malloc(nuint size);

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial void sodium_free(void* pointer);

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial int crypto_scalarmult(byte* q, byte* n, byte* p);

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial int crypto_scalarmult_base(byte* q, byte* n);

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial int crypto_sign_seed_keypair(byte* pk, byte* sk, byte* seed);

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial int crypto_sign_detached(byte* sig, ulong* siglen, byte* m, ulong mlen, byte* sk);

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial int crypto_sign_verify_detached(byte* sig, byte* m, ulong mlen, byte* pk);

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial int crypto_box_seal(byte* c, byte* m, ulong mlen, byte* pk);

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial int crypto_box_seal_open(byte* m, byte* c, ulong clen, byte* pk, byte* sk);

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial int crypto_aead_xchacha20poly1305_ietf_encrypt(
        byte* c, ulong* clen, byte* m, ulong mlen, byte* ad, ulong adlen, byte* nsec, byte* npub, byte* k);

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial int crypto_aead_xchacha20poly1305_ietf_decrypt(
        byte* m, ulong* mlen, byte* nsec, byte* c, ulong clen, byte* ad, ulong adlen, byte* npub, byte* k);

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial int crypto_aead_chacha20poly1305_ietf_encrypt(
        byte* c, ulong* clen, byte* m, ulong mlen, byte* ad, ulong adlen, byte* nsec, byte* npub, byte* k);

    [LibraryImport(NativeLibraries.Sodium)]
    internal static partial int crypto_aead_chacha20poly1305_ietf_decrypt(
        byte* m, ulong* mlen, byte* nsec, byte* c, ulong clen, byte* ad, ulong adlen, byte* npub, byte* k);
}
