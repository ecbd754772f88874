// NativeLibraryMissingException: the one exception Veil.Crypto throws when a native library it
// binds (libsodium, libargon2) cannot be loaded. Its message is a single line that names the
// package to install, so an operator reading a log knows what to do without a stack trace.
namespace Veil.Crypto.Native;

/// <summary>
/// Thrown when a native cryptographic library that Veil binds (libsodium or libargon2) is not
/// installed. The message is one line naming the package to install.
/// </summary>
public sealed class NativeLibraryMissingException : DllNotFoundException
{
    /// <summary>Creates the exception with a default message.</summary>
    public NativeLibraryMissingException()
        : base("A native cryptographic library is not installed.")
    {
    }

    /// <summary>Creates the exception with the given one-line message.</summary>
    /// <param name="message">A single line naming the missing library and how to install it.</param>
    public NativeLibraryMissingException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the given message and cause.</summary>
    /// <param name="message">A single line naming the missing library and how to install it.</param>
    /// <param name="innerException">The failure that caused this one.</param>
    public NativeLibraryMissingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The logical library name that could not be loaded (<c>libsodium</c> or <c>libargon2</c>).</summary>
    public string? LibraryName { get; init; }
}
