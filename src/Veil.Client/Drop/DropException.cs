namespace Veil.Client.Drop;

/// <summary>
/// A Drop operation failed for a reason the user can act on. <see cref="Code"/> is a server problem code from
/// spec/drop-api.md (<c>expired</c>, <c>exhausted</c>, <c>not-found</c>, …) or one of the client codes in
/// <see cref="DropErrorCodes"/>; <see cref="Exception.Message"/> is one line for a person, with no secret in it.
/// </summary>
public sealed class DropException : Exception
{
    public DropException()
        : this(DropErrorCodes.Failed, "The drop operation failed.")
    {
    }

    public DropException(string message)
        : this(DropErrorCodes.Failed, message)
    {
    }

    public DropException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = DropErrorCodes.Failed;
    }

    public DropException(string code, string message, int? status = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        Status = status;
    }

    /// <summary>The stable problem code.</summary>
    public string Code { get; } = DropErrorCodes.Failed;

    /// <summary>The HTTP status when the server refused, otherwise null.</summary>
    public int? Status { get; }
}

/// <summary>Problem codes raised by the client itself (the server's are in spec/drop-api.md).</summary>
public static class DropErrorCodes
{
    public const string Failed = "failed";
    public const string Tampered = "tampered";
    public const string Truncated = "truncated";
    public const string WrongKey = "wrong-key";
    public const string WrongPassword = "wrong-password";
    public const string PasswordRequired = "password-required";
    public const string UnsupportedFormat = "unsupported-format";
    public const string FileChanged = "file-changed";
    public const string NoOwnerToken = "no-owner-token";
    public const string Unreachable = "unreachable";
    public const string Expired = "expired";
    public const string Exhausted = "exhausted";
    public const string NotFound = "not-found";
    public const string TakenDown = "taken-down";
    public const string NotFinalized = "not-finalized";
    public const string NotOwner = "not-owner";
    public const string BlobDamaged = "blob-damaged";
}
