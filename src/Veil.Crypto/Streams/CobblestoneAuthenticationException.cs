using System.Security.Cryptography;

namespace Veil.Crypto.Streams;

/// <summary>
/// Thrown by <see cref="CobblestoneDecryptStream"/> when the Cobblestone-256 message fails authentication
/// (tampering, truncation, reordering, a missing or duplicated final chunk, trailing data).
/// </summary>
/// <remarks>
/// <c>Stream.Read</c> cannot return "not authentic" as a value, so the read-through stream throws this; the
/// value-returning APIs are <see cref="Cobblestone256.TryDecrypt"/> and <see cref="Cobblestone256.DecryptAsync"/>.
/// Everything read from the stream before this exception must be discarded: the message is not authentic.
/// </remarks>
public sealed class CobblestoneAuthenticationException : CryptographicException
{
    /// <summary>Creates the exception with the default message.</summary>
    public CobblestoneAuthenticationException()
        : base("The Cobblestone-256 message is not authentic: discard everything read from it.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What failed; never contains key material or plaintext.</param>
    public CobblestoneAuthenticationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What failed; never contains key material or plaintext.</param>
    /// <param name="inner">The underlying exception.</param>
    public CobblestoneAuthenticationException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
