// DKIM canonicalization (RFC 6376 §3.4): "simple" and "relaxed" for header fields and the body.
// The canonical forms are what gets hashed: a byte-exact implementation is the whole point, so the
// rules below follow the RFC text step by step and are tested against dkimpy's cases.
using System.Buffers;

namespace Veil.Mail.Dkim;

/// <summary>A DKIM canonicalization algorithm (RFC 6376 §3.4).</summary>
public enum DkimCanonicalization
{
    /// <summary>"simple": tolerates almost no modification.</summary>
    Simple,

    /// <summary>"relaxed": tolerates whitespace changes and header folding.</summary>
    Relaxed,
}

/// <summary>The canonicalization steps, on raw bytes.</summary>
internal static class DkimCanonicalizer
{
    /// <summary>
    /// Parses a c= tag value ("header/body", body defaulting to simple; absent means simple/simple).
    /// </summary>
    public static bool TryParseTag(string? value, out DkimCanonicalization header, out DkimCanonicalization body)
    {
        header = body = DkimCanonicalization.Simple;
        if (value is null)
        {
            return true;
        }

        var parts = value.Split('/');
        if (parts.Length > 2 || !TryParseName(parts[0], out header))
        {
            return false;
        }

        return parts.Length == 1 || TryParseName(parts[1], out body);
    }

    private static bool TryParseName(string name, out DkimCanonicalization value)
    {
        value = DkimCanonicalization.Simple;
        switch (name)
        {
            case "simple":
                return true;
            case "relaxed":
                value = DkimCanonicalization.Relaxed;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Writes the canonical "name:value" of one header field (value ends with CRLF when the input did).</summary>
    public static void WriteHeader(DkimCanonicalization algorithm, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, IBufferWriter<byte> output)
    {
        if (algorithm == DkimCanonicalization.Simple)
        {
            output.Write(name);
            output.Write(":"u8);
            output.Write(value);
            return;
        }

        WriteRelaxedName(name, output);
        output.Write(":"u8);
        WriteRelaxedValue(value, output);
    }

    /// <summary>Relaxed name: lowercase, whitespace before the colon removed.</summary>
    public static void WriteRelaxedName(ReadOnlySpan<byte> name, IBufferWriter<byte> output)
    {
        var trimmed = name.TrimEnd(" \t"u8);
        var dest = output.GetSpan(trimmed.Length);
        for (int i = 0; i < trimmed.Length; i++)
        {
            byte b = trimmed[i];
            dest[i] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b;
        }

        output.Advance(trimmed.Length);
    }

    /// <summary>Relaxed value: unfold (drop CR and LF), runs of WSP become one SP, leading and trailing WSP removed, then CRLF.</summary>
    public static void WriteRelaxedValue(ReadOnlySpan<byte> value, IBufferWriter<byte> output)
    {
        var dest = output.GetSpan(value.Length + 2);
        int n = 0;
        bool pendingSpace = false;
        foreach (byte b in value)
        {
            if (b is (byte)'\r' or (byte)'\n')
            {
                continue;
            }

            if (b is (byte)' ' or (byte)'\t')
            {
                pendingSpace = n > 0;
                continue;
            }

            if (pendingSpace)
            {
                dest[n++] = (byte)' ';
                pendingSpace = false;
            }

            dest[n++] = b;
        }

        dest[n++] = (byte)'\r';
        dest[n++] = (byte)'\n';
        output.Advance(n);
    }

    /// <summary>Writes the canonical body.</summary>
    public static void WriteBody(DkimCanonicalization algorithm, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (algorithm == DkimCanonicalization.Simple)
        {
            WriteSimpleBody(body, output);
        }
        else
        {
            WriteRelaxedBody(body, output);
        }
    }

    /// <summary>Simple body: trailing empty lines removed; an empty body becomes one CRLF; a missing final CRLF is added.</summary>
    private static void WriteSimpleBody(ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        var content = body;
        while (content.EndsWith("\r\n"u8))
        {
            content = content[..^2];
        }

        output.Write(content);
        output.Write("\r\n"u8);
    }

    /// <summary>
    /// Relaxed body: per line, trailing WSP removed and runs of WSP made one SP; trailing empty lines
    /// removed; a non-empty body ends with CRLF; an empty body stays empty.
    /// </summary>
    private static void WriteRelaxedBody(ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        int pendingEmptyLines = 0;
        var rest = body;
        while (!rest.IsEmpty)
        {
            int crlf = rest.IndexOf("\r\n"u8);
            var line = crlf < 0 ? rest : rest[..crlf];
            rest = crlf < 0 ? [] : rest[(crlf + 2)..];

            // A line of only whitespace is empty once canonicalized; empty lines are written only
            // when a non-empty line follows them, which drops the trailing ones.
            if (line.IndexOfAnyExcept(" \t"u8) < 0)
            {
                pendingEmptyLines++;
                continue;
            }

            for (; pendingEmptyLines > 0; pendingEmptyLines--)
            {
                output.Write("\r\n"u8);
            }

            var dest = output.GetSpan(line.Length + 2);
            int n = 0;
            bool pendingSpace = false;
            foreach (byte b in line)
            {
                if (b is (byte)' ' or (byte)'\t')
                {
                    pendingSpace = true;
                    continue;
                }

                if (pendingSpace)
                {
                    dest[n++] = (byte)' ';
                    pendingSpace = false;
                }

                dest[n++] = b;
            }

            dest[n++] = (byte)'\r';
            dest[n++] = (byte)'\n';
            output.Advance(n);
        }
    }

    /// <summary>Canonicalizes a whole body into a new array.</summary>
    public static byte[] Body(DkimCanonicalization algorithm, ReadOnlySpan<byte> body)
    {
        var buffer = new ArrayBufferWriter<byte>(body.Length + 2);
        WriteBody(algorithm, body, buffer);
        return buffer.WrittenSpan.ToArray();
    }
}
