// The metadata record of a drop, v1 (spec/drop.md): a UTF-8 JSON object, padded with spaces.
//
//   {"v":1,"name":"report.pdf","type":"application/pdf","size":12345}   then 0x20 bytes up to a multiple of 256
//
// "v" must be the integer 1; "name" a non-empty string of at most 1024 UTF-8 bytes; "type" a string of at most
// 255 UTF-8 bytes (empty means unknown); "size" an integer 0 to 2^53 - 1, the exact plaintext length of the
// content. Other members are ignored (a v1 reader must skip what a later v1 writer adds); a duplicated member,
// trailing non-whitespace, or a record longer than 3840 bytes is malformed (the server takes metadata
// blobs of at most 4096 bytes; 3840 is the largest multiple of 256 whose ciphertext, 3912 bytes, fits). The padding hides the exact name
// length from the server, which sees the metadata blob's size. The name is whatever the sender chose: a
// receiver must treat it as hostile (path separators, "..", control characters) before touching a file system.
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Veil.Crypto.Drop;

/// <summary>The encrypted description of a drop's file: name, media type and size (spec/drop.md, v1).</summary>
/// <param name="Name">The sender's file name (hostile on receipt: sanitise before use).</param>
/// <param name="MediaType">The media type, or empty when unknown.</param>
/// <param name="Size">The content's plaintext length in bytes.</param>
public sealed record DropMetadata(string Name, string MediaType, long Size)
{
    /// <summary>The record version this code writes and reads.</summary>
    public const int Version = 1;

    /// <summary>The longest file name, in UTF-8 bytes.</summary>
    public const int MaxNameBytes = 1024;

    /// <summary>The longest media type, in UTF-8 bytes.</summary>
    public const int MaxMediaTypeBytes = 255;

    /// <summary>The encoded record is padded with spaces to a multiple of this many bytes.</summary>
    public const int PaddingBlock = 256;

    /// <summary>The longest encoded record accepted, padding included.</summary>
    public const int MaxEncodedLength = 3840;

    /// <summary>The largest size: 2^53 - 1, the largest integer a JavaScript number holds exactly.</summary>
    public const long MaxSize = (1L << 53) - 1;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Encodes the record: compact JSON with members v, name, type, size in that order, space-padded.</summary>
    /// <returns>The plaintext of the metadata stream.</returns>
    /// <exception cref="ArgumentException">The name is empty or too long, the type too long, the size out of range, or a string is not valid UTF-16.</exception>
    public byte[] Encode()
    {
        Validate();
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", Version);
            writer.WriteString("name", Name);
            writer.WriteString("type", MediaType);
            writer.WriteNumber("size", Size);
            writer.WriteEndObject();
        }

        int length = (int)buffer.Length;
        int padded = (length + PaddingBlock - 1) / PaddingBlock * PaddingBlock;
        if (padded > MaxEncodedLength)
        {
            throw new ArgumentException($"The metadata record exceeds {MaxEncodedLength} bytes.", nameof(Name));
        }

        byte[] record = new byte[padded];
        buffer.GetBuffer().AsSpan(0, length).CopyTo(record);
        record.AsSpan(length).Fill((byte)' ');
        return record;
    }

    /// <summary>Parses a v1 record strictly (see the file header); returns null when it is not one.</summary>
    /// <param name="record">The decrypted metadata stream.</param>
    /// <returns>The metadata, or null.</returns>
    public static DropMetadata? TryDecode(ReadOnlySpan<byte> record)
    {
        if (record.Length > MaxEncodedLength)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(record, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            int? version = null;
            string? name = null, type = null;
            long? size = null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string member = reader.GetString()!;
                if (!seen.Add(member) || !reader.Read())
                {
                    return null;
                }

                switch (member)
                {
                    case "v":
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int v))
                        {
                            return null;
                        }

                        version = v;
                        break;
                    case "name":
                        if (reader.TokenType != JsonTokenType.String)
                        {
                            return null;
                        }

                        name = reader.GetString();
                        break;
                    case "type":
                        if (reader.TokenType != JsonTokenType.String)
                        {
                            return null;
                        }

                        type = reader.GetString();
                        break;
                    case "size":
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long s))
                        {
                            return null;
                        }

                        size = s;
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                // Reader.Read() after the end object returns false at the end of input (trailing whitespace is allowed).
                return null;
            }

            if (version != Version || name is null || type is null || size is null)
            {
                return null;
            }

            var metadata = new DropMetadata(name, type, size.Value);
            return metadata.IsValid() ? metadata : null;
        }
        catch (JsonException)
        {
            // Malformed JSON is an expected outcome of decoding data from a sender, not an exceptional one.
            return null;
        }
    }

    private bool IsValid() =>
        Name is { Length: > 0 } && MediaType is not null
        && Size is >= 0 and <= MaxSize
        && Utf8Length(Name) is > 0 and <= MaxNameBytes
        && Utf8Length(MediaType) is >= 0 and <= MaxMediaTypeBytes;

    private void Validate()
    {
        if (!IsValid())
        {
            throw new ArgumentException(
                $"Drop metadata needs a name of 1 to {MaxNameBytes} UTF-8 bytes, a type of at most {MaxMediaTypeBytes} bytes and a size of 0 to 2^53-1, all valid UTF-16.");
        }
    }

    private static int Utf8Length(string text)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetByteCount(text);
        }
        catch (EncoderFallbackException)
        {
            return -1;
        }
    }
}
