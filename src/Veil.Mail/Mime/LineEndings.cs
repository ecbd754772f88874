// Canonical line endings (RFC 5322 §2.1, RFC 5321 §2.3.8): on the wire every line of a message ends in CRLF, and a
// bare CR or a bare LF is not a line ending at all. A strict receiver refuses a message holding one (Veil's own SMTP
// listener answers 550 5.6.0), and a DKIM signature computed over bare LFs fails at a verifier that canonicalises
// them (RFC 6376 §5.3). So every message Veil writes passes through ToCrlf before it is signed.
// Limits: a "binary" body (RFC 3030 BINARYMIME) is not a sequence of lines; Veil never sends BDAT, so such a body
// is converted like any other and a receiver that needs it verbatim cannot get it through SMTP DATA anyway.
namespace Veil.Mail.Mime;

/// <summary>Converts bare CR and bare LF to CRLF.</summary>
public static class LineEndings
{
    /// <summary>True when every CR in <paramref name="message"/> is followed by LF and every LF preceded by CR.</summary>
    /// <param name="message">Raw bytes.</param>
    public static bool IsCanonical(ReadOnlySpan<byte> message) => FirstBare(message) < 0;

    /// <summary>
    /// <paramref name="message"/> with each bare LF and each bare CR replaced by CRLF (an existing CRLF is kept);
    /// the same array when there is nothing to replace, so a canonical message costs one scan and no copy.
    /// </summary>
    /// <param name="message">Raw bytes.</param>
    public static byte[] ToCrlf(byte[] message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var first = FirstBare(message);
        if (first < 0)
        {
            return message;
        }

        var output = new MemoryStream(message.Length + 64);
        output.Write(message, 0, first);
        for (var i = first; i < message.Length; i++)
        {
            var b = message[i];
            if (b == (byte)'\r')
            {
                output.Write("\r\n"u8);
                if (i + 1 < message.Length && message[i + 1] == (byte)'\n')
                {
                    i++;
                }
            }
            else if (b == (byte)'\n')
            {
                output.Write("\r\n"u8);
            }
            else
            {
                output.WriteByte(b);
            }
        }

        return output.ToArray();
    }

    /// <summary>The index of the first bare CR or bare LF, or -1.</summary>
    private static int FirstBare(ReadOnlySpan<byte> message)
    {
        var offset = 0;
        while (true)
        {
            var i = message[offset..].IndexOfAny((byte)'\r', (byte)'\n');
            if (i < 0)
            {
                return -1;
            }

            i += offset;
            if (message[i] == (byte)'\n' || i + 1 == message.Length || message[i + 1] != (byte)'\n')
            {
                return i;
            }

            offset = i + 2;
        }
    }
}
