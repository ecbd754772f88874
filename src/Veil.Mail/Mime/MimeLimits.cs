namespace Veil.Mail.Mime;

/// <summary>
/// Bounds applied by <see cref="MimeMessage.Parse(ReadOnlyMemory{byte}, MimeLimits?)"/>. Exceeding a limit never
/// throws: the parser stops descending at that point, keeps the remaining bytes opaque (so the message still
/// writes back byte for byte) and reports a <see cref="MimeDefect"/>.
/// </summary>
public sealed record MimeLimits
{
    /// <summary>The defaults: generous for real mail, small enough that hostile input cannot exhaust memory.</summary>
    public static MimeLimits Default { get; } = new();

    /// <summary>Deepest nesting of multiparts and encapsulated messages; deeper entities stay opaque leaves. Default 32.</summary>
    public int MaxDepth { get; init; } = 32;

    /// <summary>Header fields kept per entity; further fields are skipped (still written back). Default 1,000.</summary>
    public int MaxHeaderCount { get; init; } = 1000;

    /// <summary>Longest header field (folded, in bytes) whose value is interpreted; longer values are truncated. Default 64 KiB.</summary>
    public int MaxHeaderLineLength { get; init; } = 64 * 1024;

    /// <summary>Most entities in the whole tree, encapsulated messages included. Default 1,000.</summary>
    public int MaxParts { get; init; } = 1000;

    /// <summary>Largest input whose structure is parsed; a larger message keeps its top-level headers and an opaque body. Default 64 MiB.</summary>
    public long MaxTotalSize { get; init; } = 64L * 1024 * 1024;
}
