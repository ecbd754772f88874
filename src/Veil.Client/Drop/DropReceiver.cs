// Receiving a drop (spec/drop.md §6–7): info → key (link or password) → metadata → content to a temporary file →
// rename only after the whole content authenticated. A tampered, truncated or wrong-key drop never leaves a file
// that looks complete: the temporary file is deleted on every failure path, cancellation included.
using System.Buffers.Text;
using System.Net;
using Veil.Crypto.Drop;
using Veil.Crypto.Streams;

namespace Veil.Client.Drop;

/// <summary>An opened drop: its public info, its key and its decrypted metadata. Dispose it to wipe the key.</summary>
public sealed class OpenedDrop(DropInfo info, DropKey key, DropMetadata metadata) : IDisposable
{
    public DropInfo Info { get; } = info;

    public DropKey Key { get; } = key;

    public DropMetadata Metadata { get; } = metadata;

    public bool IsPasswordDrop => Info.Password is not null;

    public void Dispose() => Key.Dispose();
}

/// <summary>A received file.</summary>
public sealed record DropGetResult(string Path, DropMetadata Metadata, bool NameChanged);

/// <summary>Opens and downloads drops from one server.</summary>
public sealed class DropReceiver(DropApi api)
{
    /// <summary>Reads the info, finds the key (from the link, or by asking for the password) and decrypts the metadata.</summary>
    /// <param name="link">The parsed link.</param>
    /// <param name="password">Asked only for a password drop whose link has no key; returns null to give up.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    public async Task<OpenedDrop> OpenAsync(DropLink link, Func<CancellationToken, Task<string?>>? password, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(link);
        DropInfo info = await api.GetInfoAsync(link.Id, cancellationToken).ConfigureAwait(false);
        DropKey? key = link.Key();
        bool fromPassword = false;
        if (key is null)
        {
            if (info.Password is null)
            {
                throw new DropException(DropErrorCodes.WrongKey, "the link has no key (the part after '#' is missing) and the drop has no password");
            }

            string? entered = password is null ? null : await password(cancellationToken).ConfigureAwait(false);
            if (entered is null)
            {
                throw new DropException(DropErrorCodes.PasswordRequired, "this drop is protected by a password");
            }

            byte[]? salt = Decode(info.Password.Salt);
            byte[]? wrapped = Decode(info.Password.WrappedKey);
            if (wrapped is { Length: > 0 } && wrapped[0] != DropPassword.Version)
            {
                throw new DropException(DropErrorCodes.UnsupportedFormat, "this drop's password protection is of a newer version: update veil");
            }

            key = salt is null || wrapped is null ? null : DropPassword.TryUnwrap(wrapped, entered, salt);
            if (key is null)
            {
                throw new DropException(DropErrorCodes.WrongPassword, "wrong password");
            }

            fromPassword = true;
        }

        try
        {
            byte[] metadataBlob = Decode(info.Metadata) ?? [];
            var (status, metadata) = DropCipher.DecryptMetadata(key, link.Id, metadataBlob);
            if (status == DropOpenStatus.NotAuthentic)
            {
                throw fromPassword
                    ? new DropException(DropErrorCodes.Tampered, "the drop was tampered with: its metadata failed authentication")
                    : new DropException(DropErrorCodes.WrongKey, "wrong key: the key in the link does not open this drop (or the drop was tampered with)");
            }

            if (status == DropOpenStatus.Malformed || metadata is null)
            {
                throw new DropException(DropErrorCodes.UnsupportedFormat, "this drop's metadata is not a version this client understands: update veil");
            }

            if (!Cobblestone256.TryGetPlaintextLength(info.ContentSize, out long plaintext) || plaintext != metadata.Size)
            {
                throw new DropException(DropErrorCodes.Tampered, "the drop was tampered with: its size does not match its metadata");
            }

            return new OpenedDrop(info, key, metadata);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Counts one download, streams and decrypts the content into <paramref name="directory"/> under the sanitised name,
    /// through a temporary file renamed only after the whole content authenticated.
    /// </summary>
    public async Task<DropGetResult> DownloadAsync(OpenedDrop drop, string directory, IProgress<DropProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(drop);
        string root = Path.GetFullPath(directory);
        if (!Directory.Exists(root))
        {
            throw new DropException(DropErrorCodes.Failed, $"no such directory: {directory}");
        }

        string id = drop.Info.Id;
        string safeName = DropFileNames.Sanitize(drop.Metadata.Name, $"drop-{id}");
        string temporary = Path.Combine(root, $".veil-drop-{id}-{Guid.NewGuid():N}.part");
        DropTicket ticket = await api.CountDownloadAsync(id, cancellationToken).ConfigureAwait(false);
        var createOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            // Readable only by the receiver until it is complete (and after: the content was private).
            createOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        bool kept = false;
        try
        {
            await using (var output = new FileStream(temporary, createOptions))
            await using (var source = new ResumingContentStream(api, id, ticket.Ticket, drop.Info.ContentSize, progress, cancellationToken))
            {
                await using CobblestoneDecryptStream decryptor = await DropCipher.OpenContentAsync(source, drop.Key, id, leaveOpen: true, cancellationToken).ConfigureAwait(false)
                    ?? throw new DropException(DropErrorCodes.Tampered, "the drop was tampered with: its content does not belong to this key and drop");
                try
                {
                    await decryptor.CopyToAsync(output, 1024 * 1024, cancellationToken).ConfigureAwait(false);
                }
                catch (CobblestoneAuthenticationException ex)
                {
                    throw new DropException(DropErrorCodes.Tampered, "integrity check failed: the drop was tampered with or truncated; nothing was kept", null, ex);
                }

                if (output.Length != drop.Metadata.Size)
                {
                    throw new DropException(DropErrorCodes.Tampered, "integrity check failed: the content length does not match the metadata; nothing was kept");
                }

                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
            }

            string final = MoveIntoPlace(temporary, root, safeName);
            kept = true;
            return new DropGetResult(final, drop.Metadata, !string.Equals(Path.GetFileName(final), drop.Metadata.Name, StringComparison.Ordinal));
        }
        finally
        {
            if (!kept)
            {
                File.Delete(temporary);
            }
        }
    }

    private static string MoveIntoPlace(string temporary, string root, string safeName)
    {
        for (int attempt = 0; ; attempt++)
        {
            string final = DropFileNames.AvailablePath(root, safeName);
            try
            {
                // No overwrite: a file that appeared meanwhile is never replaced.
                File.Move(temporary, final, overwrite: false);
                return final;
            }
            catch (IOException) when (attempt < 5 && File.Exists(final))
            {
                // Another file took the name between the check and the move: pick the next one.
            }
        }
    }

    private static byte[]? Decode(string? text)
    {
        if (text is null || !Base64Url.IsValid(text))
        {
            return null;
        }

        try
        {
            return Base64Url.DecodeFromChars(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>
/// The content ciphertext as one stream; if the connection breaks, it re-requests the rest with <c>Range</c> under the
/// same ticket (no second download counted). Bytes are authenticated by the decryptor that reads this stream.
/// </summary>
internal sealed class ResumingContentStream(DropApi api, string id, string ticket, long length, IProgress<DropProgress>? progress, CancellationToken cancellationToken) : Stream
{
    private const int MaxReconnects = 5;
    private HttpResponseMessage? _response;
    private Stream? _body;
    private long _position;
    private int _reconnects;
    private bool _ended;
    private long _reported;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken token = default)
    {
        while (!_ended && !buffer.IsEmpty)
        {
            try
            {
                if (_body is null)
                {
                    if (_position >= length)
                    {
                        _ended = true;
                        break;
                    }

                    _response = await api.OpenContentAsync(id, ticket, _position, cancellationToken).ConfigureAwait(false);
                    _body = await _response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                }

                int n = await _body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    // The server ended the body. Short of the announced length the decryptor sees a truncated message.
                    _ended = true;
                    break;
                }

                _position += n;
                if (_position - _reported >= 256 * 1024 || _position == length)
                {
                    _reported = _position;
                    progress?.Report(new DropProgress(_position, length));
                }

                return n;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsBrokenConnection(ex) && _reconnects < MaxReconnects)
            {
                _reconnects++;
                CloseResponse();
                await Task.Delay(TimeSpan.FromMilliseconds(200 * _reconnects), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsBrokenConnection(ex))
            {
                // Out of reconnects: what arrived is a prefix, and a prefix is never kept.
                string reason = ex is DropException { Status: not null } d ? d.Message : "the connection broke";
                throw new DropException(
                    DropErrorCodes.Truncated,
                    $"the content is truncated: the server stopped sending at byte {_position} of {length} ({reason}); nothing was kept",
                    null,
                    ex);
            }
            catch (DropException ex) when (ex.Status == (int)HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // The stored blob is shorter than announced: end here and let authentication report the truncation.
                _ended = true;
            }
        }

        return 0;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("asynchronous reads only");

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken token) =>
        ReadAsync(buffer.AsMemory(offset, count), token).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            CloseResponse();
        }

        base.Dispose(disposing);
    }

    private void CloseResponse()
    {
        _body?.Dispose();
        _response?.Dispose();
        _body = null;
        _response = null;
    }

    // blob-damaged is a 500 that no retry can fix (the server's copy is short): it is reported at once.
    private static bool IsBrokenConnection(Exception ex) => ex is IOException or HttpRequestException
        || (ex is DropException d && (d.Code == DropErrorCodes.Unreachable || (d.Status >= 500 && d.Code != DropErrorCodes.BlobDamaged)));
}
