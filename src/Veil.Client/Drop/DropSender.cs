// Sending a file as a drop (spec/drop.md §6, spec/drop-api.md): create → metadata → content in parts → finalize.
//
// Memory is constant in the file size: the file is read once, encrypted chunk by chunk (Cobblestone-256, 16 KiB),
// and the ciphertext is cut into the server's parts in ONE part-sized buffer: a part's PUT starts with its first byte
// and its body streams the buffer while the encryptor fills it, so encryption and upload overlap without a second
// buffer (client peak RSS: docs/PERFORMANCE.md, "Drop transfer"). The buffer is reused only once the server has
// answered, so a part that fails is re-sent from it (idempotent PUT). A run that dies is resumed by the next
// `send` of the same unchanged file: the resume state keeps the drop id, owner token, drop key and content salt,
// the file is re-encrypted with the same salt (reproducing the same bytes), parts the server already holds are
// checked against their recorded SHA-256 and skipped, the rest are sent.
using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using Veil.Client.Crypto;
using Veil.Crypto.Drop;
using Veil.Crypto.Memory;
using Veil.Crypto.Streams;

namespace Veil.Client.Drop;

/// <summary>What to send and how.</summary>
public sealed record DropSendOptions
{
    public required string FilePath { get; init; }

    /// <summary>How long the drop stays available after upload (5 minutes to 30 days).</summary>
    public TimeSpan Expires { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Download limit, or null for unlimited until expiry.</summary>
    public int? MaxDownloads { get; init; }

    /// <summary>A password: the link then carries no key. Null for a link-key drop.</summary>
    public string? Password { get; init; }

    /// <summary>
    /// The signed-in sender's user key, or null. When set, the create request carries the drop's name key wrapped
    /// under it (spec/drop.md §8), so the account can read the file's name back; the key itself is not sent.
    /// </summary>
    public SecretBytes? OwnerUserKey { get; init; }

    /// <summary>The media type to record; null guesses from the extension.</summary>
    public string? MediaType { get; init; }

    /// <summary>Where to keep resume state, or null to keep none (an interrupted send then starts over).</summary>
    public DropResumeStore? Resume { get; init; }

    /// <summary>Where to remember the owner token, or null.</summary>
    public DropOwnerTokenStore? Owners { get; init; }

    /// <summary>Ciphertext bytes done so far, out of the total.</summary>
    public IProgress<DropProgress>? Progress { get; init; }

    /// <summary>Attempts per part before giving up (network errors and 5xx are retried).</summary>
    public int Attempts { get; init; } = 5;
}

/// <summary>Progress of a transfer in ciphertext bytes.</summary>
public readonly record struct DropProgress(long Done, long Total);

/// <summary>A finished send. <see cref="Link"/> holds the key unless it is a password drop: it is secret.</summary>
public sealed record DropSendResult(string Link, string Id, string Origin, string OwnerToken, DateTimeOffset? ExpiresAt, long ContentSize, bool Resumed, bool IsPasswordDrop);

/// <summary>Sends files as drops to one server.</summary>
public sealed class DropSender(DropApi api, string origin)
{
    /// <summary>The largest part size this client buffers (one part buffer is kept).</summary>
    public const long MaxPartSize = 64L * 1024 * 1024;

    public async Task<DropSendResult> SendAsync(DropSendOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var file = new FileInfo(Path.GetFullPath(options.FilePath));
        if (!file.Exists)
        {
            throw new DropException(DropErrorCodes.Failed, $"no such file: {options.FilePath}");
        }

        long size = file.Length;
        long modified = file.LastWriteTimeUtc.Ticks;
        long contentSize = Cobblestone256.GetCiphertextLength(size);
        var metadata = new DropMetadata(file.Name, options.MediaType ?? MediaTypes.Guess(file.Name), size);
        _ = metadata.Encode(); // validates the name before anything reaches the server

        DropUploadState? state = options.Resume is null ? null
            : await options.Resume.LoadAsync(origin, file.FullName, size, modified, cancellationToken).ConfigureAwait(false);
        DropUploadStatus? status = null;
        if (state is not null)
        {
            status = await TryStatusAsync(state, cancellationToken).ConfigureAwait(false);
            if (status is null || status.PartSize != state.PartSize || status.PartCount != state.PartCount || state.IsPasswordDrop != (options.Password is not null))
            {
                options.Resume!.Delete(state);
                state = null;
                status = null;
            }
        }

        bool resumed = state is not null;
        state ??= await CreateAsync(options, file, size, modified, contentSize, cancellationToken).ConfigureAwait(false);
        using DropKey key = DropKey.FromBase64Url(state.DropKey) ?? throw new DropException(DropErrorCodes.Failed, "the resume state is damaged");

        if (status is not { Finalized: true })
        {
            if (status is not { MetadataReceived: true })
            {
                await api.PutMetadataAsync(state.Id, state.OwnerToken, DropCipher.EncryptMetadata(key, state.Id, metadata), cancellationToken).ConfigureAwait(false);
            }

            var received = new HashSet<int>(status?.Received ?? []);
            await UploadContentAsync(options, file, state, key, received, contentSize, cancellationToken).ConfigureAwait(false);
            var now = new FileInfo(file.FullName);
            if (!now.Exists || now.Length != size || now.LastWriteTimeUtc.Ticks != modified)
            {
                throw new DropException(DropErrorCodes.FileChanged, "the file changed while it was being sent; send it again");
            }
        }

        DropOwnerStats stats = await api.FinalizeAsync(state.Id, state.OwnerToken, cancellationToken).ConfigureAwait(false);
        options.Resume?.Delete(state);
        bool isPassword = options.Password is not null;
        string link = DropLink.Format(origin, state.Id, isPassword ? null : key);
        return new DropSendResult(link, state.Id, origin, state.OwnerToken, stats.ExpiresAt, contentSize, resumed, isPassword);
    }

    private async Task<DropUploadStatus?> TryStatusAsync(DropUploadState state, CancellationToken cancellationToken)
    {
        try
        {
            return await api.GetUploadStatusAsync(state.Id, state.OwnerToken, cancellationToken).ConfigureAwait(false);
        }
        catch (DropException ex) when (ex.Status is not null)
        {
            // The drop is gone (purged, deleted, expired): start a new one.
            return null;
        }
    }

    private async Task<DropUploadState> CreateAsync(DropSendOptions options, FileInfo file, long size, long modified, long contentSize, CancellationToken cancellationToken)
    {
        using DropKey key = DropKey.Generate();
        DropPasswordWrap? wrap = null;
        if (options.Password is not null)
        {
            byte[] salt = DropPassword.NewSalt();
            byte[] wrapped = DropPassword.Wrap(key, options.Password, salt);
            wrap = new DropPasswordWrap(Base64Url(salt), Base64Url(wrapped));
        }

        DropCreated created = await api.CreateAsync(
            new CreateDropRequest(contentSize, (long)options.Expires.TotalSeconds, options.MaxDownloads, wrap)
            {
                OwnerNameKey = options.OwnerUserKey is null ? null : DropNameKey.Wrap(options.OwnerUserKey, key),
            },
            cancellationToken).ConfigureAwait(false);
        if (!DropCipher.IsValidDropId(created.Id) || created.PartSize <= 0 || created.PartSize > MaxPartSize)
        {
            throw new DropException(DropErrorCodes.Failed, "the server answered the create request with an id or part size this client cannot use");
        }

        if (options.Owners is not null)
        {
            // Saved before any byte is sent: even an abandoned upload can then be deleted by its owner.
            await options.Owners.SaveAsync(new OwnedDrop(created.Id, origin, created.OwnerToken, DateTimeOffset.UtcNow), cancellationToken).ConfigureAwait(false);
        }

        var state = new DropUploadState
        {
            Origin = origin,
            FilePath = file.FullName,
            FileSize = size,
            FileModifiedTicks = modified,
            Id = created.Id,
            OwnerToken = created.OwnerToken,
            DropKey = key.ToBase64Url(),
            ContentSalt = Base64Url(DropCipher.NewContentSalt()),
            PartSize = created.PartSize,
            PartCount = created.PartCount,
            IsPasswordDrop = wrap is not null,
        };
        if (options.Resume is not null)
        {
            await options.Resume.SaveAsync(state, cancellationToken).ConfigureAwait(false);
        }

        return state;
    }

    private async Task UploadContentAsync(DropSendOptions options, FileInfo file, DropUploadState state, DropKey key, HashSet<int> received, long contentSize, CancellationToken cancellationToken)
    {
        byte[] salt = System.Buffers.Text.Base64Url.DecodeFromChars(state.ContentSalt);
        await using var parts = new PartUploadStream(this, options, state, received, contentSize, cancellationToken);
        await using (FileStream input = new(file.FullName, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, Options = FileOptions.SequentialScan | FileOptions.Asynchronous, BufferSize = 0 }))
        await using (CobblestoneEncryptStream encryptor = DropCipher.CreateContentEncryptor(parts, key, state.Id, salt, leaveOpen: true))
        {
            // Exactly the size declared in the metadata and the create request, even if the file grows meanwhile.
            // 256 KiB reads: large enough for few system calls, small next to the part buffer.
            byte[] buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
            try
            {
                long remaining = state.FileSize;
                while (remaining > 0)
                {
                    int n = await input.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        throw new DropException(DropErrorCodes.FileChanged, "the file got shorter while it was being sent; send it again");
                    }

                    await encryptor.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    remaining -= n;
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(buffer);
                ArrayPool<byte>.Shared.Return(buffer);
            }

            await encryptor.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        await parts.FinishAsync().ConfigureAwait(false);
    }

    private async Task SendPartAsync(DropSendOptions options, DropUploadState state, int part, Func<HttpContent> body, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await api.UploadPartAsync(state.Id, state.OwnerToken, part, body(), cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (attempt < options.Attempts && IsTransient(ex, cancellationToken))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250 * (1 << Math.Min(attempt, 6))), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static bool IsTransient(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        DropException d => d.Code == DropErrorCodes.Unreachable || d.Status is >= 500 or (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests,
        TaskCanceledException => !cancellationToken.IsCancellationRequested, // HttpClient's own timeout
        IOException => true,
        _ => false,
    };

    private static string Base64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    /// <summary>
    /// Receives the ciphertext and cuts it into parts, in ONE part-sized buffer. A part's PUT starts with its first
    /// byte and its body streams the buffer as the encryptor fills it (the body waits for bytes that are not there
    /// yet), so the upload overlaps encryption without a second buffer. The buffer is only reused for the next part
    /// once the server has answered, so a failed attempt is re-sent from it, byte for byte.
    /// </summary>
    private sealed class PartUploadStream(DropSender sender, DropSendOptions options, DropUploadState state, HashSet<int> received, long contentSize, CancellationToken cancellationToken) : Stream
    {
        private readonly Lock _lock = new();
        private readonly CancellationTokenSource _abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        private readonly byte[] _buffer = new byte[PartLength(state, contentSize, 0)];
        private TaskCompletionSource? _waiter;
        private int _length;
        private int _count;
        private int _part;
        private long _done;
        private bool _finished;
        private Task _pending = Task.CompletedTask;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken token = default)
        {
            while (!buffer.IsEmpty)
            {
                if (_part >= state.PartCount)
                {
                    throw new DropException(DropErrorCodes.Failed, "the ciphertext is longer than announced to the server");
                }

                if (_count == 0)
                {
                    StartPart();
                }

                int n = Math.Min(buffer.Length, _length - _count);
                buffer.Span[..n].CopyTo(_buffer.AsSpan(_count));
                Publish(_count + n);
                buffer = buffer[n..];
                if (_count == _length)
                {
                    await EndPartAsync().ConfigureAwait(false);
                }
                else if (_pending.IsFaulted)
                {
                    // The server refused the part (or retries ran out) before it was complete: stop encrypting now.
                    await _pending.ConfigureAwait(false);
                }
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken token) =>
            WriteAsync(buffer.AsMemory(offset, count), token).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("asynchronous writes only");

        public override Task FlushAsync(CancellationToken token) => Task.CompletedTask;

        public override void Flush()
        {
        }

        /// <summary>Checks that every part was shipped; the last one has been answered by then.</summary>
        public Task FinishAsync()
        {
            if (_part != state.PartCount || _count != 0)
            {
                throw new DropException(DropErrorCodes.Failed, "the ciphertext is shorter than announced to the server");
            }

            _finished = true;
            return Task.CompletedTask;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            if (!_finished)
            {
                // Encryption stopped early (an error or a cancellation is on its way up): a part body waiting for
                // bytes that will never come must not hold the caller, so the in-flight upload is cancelled.
                await _abort.CancelAsync().ConfigureAwait(false);
            }

            try
            {
                await _pending.ConfigureAwait(false);
            }
            catch (Exception) when (_abort.IsCancellationRequested)
            {
                // Aborted or cancelled: the caller already sees the error or the cancellation that stopped encryption.
            }

            _abort.Dispose();
            await base.DisposeAsync().ConfigureAwait(false);
        }

        private static int PartLength(DropUploadState state, long contentSize, int part) =>
            (int)Math.Min(state.PartSize, contentSize - (part * state.PartSize));

        private void StartPart()
        {
            int part = _part;
            int length = PartLength(state, contentSize, part);
            _length = length;
            if (!received.Contains(part))
            {
                _pending = sender.SendPartAsync(options, state, part, () => new PartContent(this, part, length), _abort.Token);
            }
        }

        private async Task EndPartAsync()
        {
            int part = _part;
            string hash = Convert.ToHexStringLower(SHA256.HashData(_buffer.AsSpan(0, _length)));
            if (received.Contains(part))
            {
                if (state.PartHashes.TryGetValue(part, out string? expected) && expected != hash)
                {
                    throw new DropException(DropErrorCodes.FileChanged, "the file changed since the interrupted send; delete the resume state or send it as a new drop");
                }
            }
            else
            {
                // The buffer is not touched until the server has the whole part: a retry re-sends it from here.
                await _pending.ConfigureAwait(false);
                state.PartHashes[part] = hash;
                if (options.Resume is not null)
                {
                    await options.Resume.SaveAsync(state, cancellationToken).ConfigureAwait(false);
                }
            }

            _done += _length;
            options.Progress?.Report(new DropProgress(_done, contentSize));
            lock (_lock)
            {
                _part++;
            }

            // Wakes any body still reading the finished part (a failed attempt's), which then stops.
            Publish(0);
        }

        private void Publish(int count)
        {
            TaskCompletionSource? waiter;
            lock (_lock)
            {
                _count = count;
                waiter = _waiter;
                _waiter = null;
            }

            waiter?.TrySetResult();
        }

        /// <summary>Waits until part <paramref name="part"/> holds more than <paramref name="sent"/> bytes; returns how many it holds.</summary>
        private async Task<int> WaitForBytesAsync(int part, int sent, CancellationToken token)
        {
            while (true)
            {
                Task more;
                lock (_lock)
                {
                    if (_part != part)
                    {
                        throw new OperationCanceledException("the part's buffer has moved on to the next part", token);
                    }

                    if (_count > sent)
                    {
                        return _count;
                    }

                    _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    more = _waiter.Task;
                }

                await more.WaitAsync(token).ConfigureAwait(false);
            }
        }

        /// <summary>One attempt's body of one part: the part buffer, sent as it fills; Content-Length is the part length.</summary>
        private sealed class PartContent : HttpContent
        {
            private readonly PartUploadStream _owner;
            private readonly int _part;
            private readonly int _length;

            public PartContent(PartUploadStream owner, int part, int length)
            {
                _owner = owner;
                _part = part;
                _length = length;
                Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            }

            protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
                SerializeToStreamAsync(stream, context, CancellationToken.None);

            protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
            {
                int sent = 0;
                while (sent < _length)
                {
                    int available = await _owner.WaitForBytesAsync(_part, sent, cancellationToken).ConfigureAwait(false);
                    await stream.WriteAsync(_owner._buffer.AsMemory(sent, available - sent), cancellationToken).ConfigureAwait(false);
                    sent = available;
                }
            }

            protected override bool TryComputeLength(out long length)
            {
                length = _length;
                return true;
            }
        }
    }
}
