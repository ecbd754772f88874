// Large attachments (issue 17, point 8; spec/mailbox-api.md "Large attachments"). An attachment at or above the
// send request's threshold (1 MiB unless set) does not travel inside the message: it gets its own random 32-byte
// key, is encrypted as one Cobblestone-256 stream (spec/cobblestone.md, context "veil/v1/mail/attachment") while it
// is read from its file and uploaded, so the client holds one 16 KiB chunk of it at a time, and the message carries a
// reference part instead of the bytes:
//
//   Content-Type: application/vnd.veil.attachment-ref+json; Content-Disposition: attachment; filename=<name>
//   {"v":1,"id":"<blob id>","key":"<base64url key>","size":<plaintext bytes>,"name":"<name>","mediaType":"…","sha256":"<hex of the plaintext>"}
//
// Every copy (each recipient's, the sender's) is encrypted on its own, so each carries the key inside its own
// encryption, and the server, which stores one blob for all of them, never sees the key. Reading verifies three
// things before a file is kept: every chunk authenticates (Cobblestone), the length is the stated size, the SHA-256 is
// the stated hash; the plaintext goes to a temporary file beside the target and is renamed only then, so a refused
// blob never leaves a file that looks whole.
using System.Buffers;
using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Veil.Crypto.Streams;

namespace Veil.Client.Mailbox;

public sealed partial class MailboxClient
{
    /// <summary>The media type of a reference part.</summary>
    public const string AttachmentReferenceMediaType = "application/vnd.veil.attachment-ref+json";

    /// <summary>Attachments of this size and above go to the blob store unless the request says otherwise.</summary>
    public const long DefaultLargeAttachmentThreshold = 1024 * 1024;

    private static readonly byte[] AttachmentContext = Encoding.ASCII.GetBytes("veil/v1/mail/attachment");

    /// <summary>
    /// Downloads a large attachment, decrypts it and writes it to <paramref name="path"/> (which must not exist),
    /// streaming, with flat memory. Nothing is left at <paramref name="path"/> unless every check passed.
    /// </summary>
    /// <exception cref="MailboxKeyException">The blob is gone, or it did not verify (changed on the server).</exception>
    public async Task SaveLargeAttachmentAsync(MailLargeAttachment attachment, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var partial = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)) + ".partial");
        HttpResponseMessage response;
        try
        {
            response = await _client.AuthenticatedSendAsync(
                () => new HttpRequestMessage(HttpMethod.Get, $"{Base}/attachments/{attachment.BlobId}"), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (VeilApiException e) when (e.Code == "attachment-not-found")
        {
            throw new MailboxKeyException($"the attachment {attachment.FileName} is no longer on the server", e);
        }

        var verified = false;
        try
        {
            using (response)
            {
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                verified = await DecryptToFileAsync(body, attachment, partial, cancellationToken).ConfigureAwait(false);
            }

            if (!verified)
            {
                throw new MailboxKeyException($"the attachment {attachment.FileName} did not verify (it was changed on the server); nothing was saved");
            }

            File.Move(partial, full, overwrite: false);
        }
        finally
        {
            if (File.Exists(partial))
            {
                File.Delete(partial);
            }
        }
    }

    private static async Task<bool> DecryptToFileAsync(Stream body, MailLargeAttachment attachment, string partial, CancellationToken cancellationToken)
    {
        await using var plaintext = await CobblestoneDecryptStream.OpenAsync(body, attachment.Key, AttachmentContext, leaveOpen: true, cancellationToken).ConfigureAwait(false);
        if (plaintext is null)
        {
            return false;
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        long length = 0;
        try
        {
            await using var file = new FileStream(partial, options);
            int read;
            while ((read = await plaintext.ReadAsync(buffer.AsMemory(0, 64 * 1024), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
                if (length > attachment.Size)
                {
                    return false;
                }

                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (CobblestoneAuthenticationException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }

        return length == attachment.Size
            && CryptographicOperations.FixedTimeEquals(hash.GetHashAndReset(), Convert.FromHexString(attachment.Sha256));
    }

    /// <summary>Encrypts and uploads one large attachment; returns the reference part's JSON (which holds the key: wipe it).</summary>
    private async Task<(Guid BlobId, byte[] Reference)> UploadLargeAsync(string fileName, string mediaType, Func<Stream> open, long size, CancellationToken cancellationToken)
    {
        var key = RandomNumberGenerator.GetBytes(Cobblestone256.KeySize);
        try
        {
            var content = new EncryptingContent(open, key, size);
            AttachmentUploadResponse uploaded;
            using (var response = await _client.AuthenticatedSendAsync(() =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Post, $"{Base}/attachments") { Content = content.Fresh() };
                    return request;
                }, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false))
            {
                uploaded = await JsonSerializer.DeserializeAsync<AttachmentUploadResponse>(
                    await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Json, cancellationToken).ConfigureAwait(false)
                    ?? throw new VeilApiException((int)HttpStatusCode.OK, VeilApiException.ProtocolCode, "The upload answer was empty");
            }

            var reference = JsonSerializer.SerializeToUtf8Bytes(
                new AttachmentReferenceBody(1, uploaded.Id, Base64Url.EncodeToString(key), size, fileName, mediaType, content.Sha256Hex ?? throw new InvalidOperationException("The upload did not run.")), Json);
            return (uploaded.Id, reference);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>A reference part's attachment, or null when the JSON is not a v1 reference.</summary>
    private static MailLargeAttachment? ParseReference(byte[] json)
    {
        try
        {
            var body = JsonSerializer.Deserialize<AttachmentReferenceBody>(json, Json);
            if (body is not { V: 1 } || body.Key is null || body.Sha256 is not { Length: 64 } || body.Size < 0)
            {
                return null;
            }

            var key = Base64Url.DecodeFromChars(body.Key);
            return key.Length != Cobblestone256.KeySize ? null
                : new MailLargeAttachment(body.Id, body.Name ?? "attachment", body.MediaType ?? "application/octet-stream", body.Size, body.Sha256) { Key = key };
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            return null;
        }
    }

    private sealed record AttachmentUploadResponse(Guid Id, long Size);

    private sealed record AttachmentReferenceBody(int V, Guid Id, string? Key, long Size, string? Name, string? MediaType, string? Sha256);

    /// <summary>
    /// The upload body: the source read through a Cobblestone-256 encryptor straight onto the connection, hashing the
    /// plaintext on the way. Its length is known in advance (the ciphertext length of <c>size</c> bytes).
    /// </summary>
    private sealed class EncryptingContent(Func<Stream> open, byte[] key, long size)
    {
        public string? Sha256Hex { get; private set; }

        public HttpContent Fresh() => new Body(this);

        private sealed class Body : HttpContent
        {
            private readonly EncryptingContent _owner;

            public Body(EncryptingContent owner)
            {
                _owner = owner;
                Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            }

            protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
                await SerializeToStreamAsync(stream, context, CancellationToken.None).ConfigureAwait(false);

            protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
                try
                {
                    await using var source = _owner.Open();
                    await using var encrypt = new CobblestoneEncryptStream(stream, _owner.Key, AttachmentContext, leaveOpen: true);
                    long total = 0;
                    int read;
                    while ((read = await source.ReadAsync(buffer.AsMemory(0, 64 * 1024), cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        total += read;
                        if (total > _owner.Size)
                        {
                            throw new IOException("The attachment grew while it was being sent.");
                        }

                        hash.AppendData(buffer, 0, read);
                        await encrypt.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    }

                    if (total != _owner.Size)
                    {
                        throw new IOException("The attachment shrank while it was being sent.");
                    }

                    await encrypt.CompleteAsync(cancellationToken).ConfigureAwait(false);
                    _owner.Sha256Hex = Convert.ToHexStringLower(hash.GetHashAndReset());
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
                }
            }

            protected override bool TryComputeLength(out long length)
            {
                length = Cobblestone256.GetCiphertextLength(_owner.Size);
                return true;
            }
        }

        private Stream Open() => open();

        private byte[] Key => key;

        private long Size => size;
    }
}
