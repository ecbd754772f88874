// SecretBytes: long-lived secret material (server keys, private keys) kept outside the GC heap.
//
// The managed heap moves and copies objects, so a key held in a byte[] can leave copies behind that
// are never wiped. SecretBytes holds its bytes in unmanaged memory that never moves, wipes it when
// released, and gives access only through a short-lived lease, so a reader cannot keep a reference
// past Dispose. ToString() never shows the bytes. When libsodium is installed the memory comes from
// sodium_malloc (guard pages, mlock, wiped on free; https://doc.libsodium.org/memory_management).
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Veil.Crypto.Memory;

/// <summary>
/// A fixed-length block of secret bytes in unmanaged memory, wiped when the handle is released.
/// Read it through <see cref="Acquire"/>; the lease keeps the memory alive while it is in use.
/// </summary>
public sealed unsafe class SecretBytes : SafeHandle
{
    private readonly int _length;

    private SecretBytes(int length)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        _length = length;
        SetHandle((IntPtr)SecretAllocator.Allocate(length));
    }

    /// <summary>The number of secret bytes.</summary>
    public int Length => _length;

    /// <inheritdoc />
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>Copies <paramref name="source"/> into new secret memory. The caller wipes its own copy.</summary>
    /// <exception cref="ArgumentException"><paramref name="source"/> is empty.</exception>
    public static SecretBytes Copy(ReadOnlySpan<byte> source)
    {
        if (source.IsEmpty)
        {
            throw new ArgumentException("Secret material must not be empty.", nameof(source));
        }

        var secret = new SecretBytes(source.Length);
        source.CopyTo(new Span<byte>((void*)secret.handle, source.Length));
        return secret;
    }

    /// <summary>Creates secret memory filled with bytes from the operating system's CSPRNG.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is not positive.</exception>
    public static SecretBytes Random(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var secret = new SecretBytes(length);
        RandomNumberGenerator.Fill(new Span<byte>((void*)secret.handle, length));
        return secret;
    }

    /// <summary>
    /// Borrows the bytes. Dispose the lease (a <c>using</c> statement) as soon as the operation is done;
    /// the span must not escape it.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The secret was disposed.</exception>
    public SecretLease Acquire()
    {
        var added = false;
        DangerousAddRef(ref added);
        return new SecretLease(this, new ReadOnlySpan<byte>((void*)handle, _length));
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        SecretAllocator.Free((void*)handle, _length);
        return true;
    }

    /// <summary>Shows the length only, never the bytes.</summary>
    public override string ToString() => $"SecretBytes({_length} bytes)";
}

/// <summary>A borrowed view of a <see cref="SecretBytes"/>; dispose it to return the borrow.</summary>
public readonly ref struct SecretLease
{
    private readonly SecretBytes? _owner;

    internal SecretLease(SecretBytes owner, ReadOnlySpan<byte> span)
    {
        _owner = owner;
        Span = span;
    }

    /// <summary>The secret bytes, valid until this lease is disposed.</summary>
    public ReadOnlySpan<byte> Span { get; }

    /// <summary>Returns the borrow.</summary>
    public void Dispose() => _owner?.DangerousRelease();
}

/// <summary>
/// Allocation of secret memory. With libsodium present, <c>sodium_malloc</c> places each secret
/// between guard pages, locks it into RAM (no swap) and wipes it in <c>sodium_free</c>; without
/// libsodium it falls back to zeroed native memory that is wiped before it is freed. The choice is
/// made once per process, so every block is freed by the allocator that made it.
/// </summary>
internal static unsafe class SecretAllocator
{
    private static readonly bool s_useSodium = Native.Libsodium.TryEnsureInitialized();

    /// <summary>Whether secrets live in libsodium's guarded, locked memory.</summary>
    internal static bool UsesSodium => s_useSodium;

    internal static void* Allocate(int length)
    {
        if (!s_useSodium)
        {
            return NativeMemory.AllocZeroed((nuint)length);
        }

        // sodium_malloc fills the block with 0xdb; zero it so a fresh secret reads as zeros like the fallback.
        var pointer = Native.Libsodium.sodium_malloc((nuint)length);
        if (pointer == null)
        {
            throw new InsufficientMemoryException("sodium_malloc could not allocate secure memory (mlock limit reached?).");
        }

        new Span<byte>(pointer, length).Clear();
        return pointer;
    }

    internal static void Free(void* pointer, int length)
    {
        if (pointer == null)
        {
            return;
        }

        CryptographicOperations.ZeroMemory(new Span<byte>(pointer, length));
        if (s_useSodium)
        {
            Native.Libsodium.sodium_free(pointer);
        }
        else
        {
            NativeMemory.Free(pointer);
        }
    }
}
