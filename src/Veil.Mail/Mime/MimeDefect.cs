namespace Veil.Mail.Mime;

/// <summary>What is wrong with a message; the parser reports it and carries on with a best-effort reading.</summary>
public enum MimeDefectKind
{
    /// <summary>A line ends in a bare LF instead of CRLF (tolerated).</summary>
    BareLineFeed,
    /// <summary>A line that is neither a header field nor the empty separator line ended the header block.</summary>
    MissingHeaderBodySeparator,
    /// <summary>The first header line starts with white space.</summary>
    FirstHeaderLineIsContinuation,
    /// <summary>A multipart has no boundary parameter; its body is kept as an opaque leaf.</summary>
    NoBoundaryInMultipart,
    /// <summary>No delimiter line of the multipart's boundary was found; its body is kept as an opaque leaf.</summary>
    StartBoundaryNotFound,
    /// <summary>A multipart has no close delimiter; its last part runs to the end of the enclosing body.</summary>
    CloseBoundaryNotFound,
    /// <summary>The Content-Type value is unparseable; text/plain is assumed.</summary>
    InvalidContentType,
    /// <summary>An unknown Content-Transfer-Encoding value; the body is treated as 8bit.</summary>
    InvalidTransferEncoding,
    /// <summary>Base64 content contains characters outside the alphabet, or bad padding; they were skipped.</summary>
    InvalidBase64,
    /// <summary>Quoted-printable content contains an '=' not followed by two hex digits; it was kept literally.</summary>
    InvalidQuotedPrintable,
    /// <summary>A charset is unknown or the bytes are invalid in it; a fallback decoding was used.</summary>
    UnknownCharset,
    /// <summary>The nesting depth limit was reached; deeper content stays opaque.</summary>
    DepthLimitExceeded,
    /// <summary>The header count limit was reached; further fields are not interpreted.</summary>
    HeaderCountLimitExceeded,
    /// <summary>A header field is longer than the limit; its value was truncated.</summary>
    HeaderLineTooLong,
    /// <summary>The part count limit was reached; further parts stay opaque.</summary>
    PartLimitExceeded,
    /// <summary>The message is larger than the size limit; its body stays opaque.</summary>
    TotalSizeExceeded,
}

/// <summary>A defect found while parsing, with the byte offset in the source where it was noticed.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="Offset">Byte offset in the parsed source.</param>
public readonly record struct MimeDefect(MimeDefectKind Kind, long Offset);
