using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Veil.Client.Drop;
using Veil.Crypto.Drop;
using Veil.Server.Tests.Kit;

namespace Veil.Client.Tests.Drop;

/// <summary>
/// The sender's single part buffer against the real server with small parts: a part body is streamed while it fills,
/// a broken attempt is re-sent from the buffer, a refused part stops the send without hanging.
/// </summary>
public sealed class DropSenderTests : IAsyncLifetime
{
    private const int PartSize = 64 * 1024;

    private VeilTestServer _server = null!;
    private string _directory = null!;

    public async Task InitializeAsync()
    {
        _server = await VeilTestServer.StartAsync(o => o.Settings["Veil:Drop:PartSizeBytes"] = PartSize.ToString(CultureInfo.InvariantCulture));
        _directory = Directory.CreateTempSubdirectory("veil-drop-sender-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Send_ConnectionBreaksMidPart_PartIsResentFromItsBuffer_GetIsByteIdentical()
    {
        byte[] content = RandomNumberGenerator.GetBytes((5 * PartSize) + 1234);
        string file = WriteFile("flaky.bin", content);
        using var flaky = new FlakyPartHandler(part: 2, breakAfterBytes: PartSize / 3);

        DropSendResult sent = await SendAsync(file, flaky);

        Assert.Equal(2, flaky.Attempts);
        Assert.Equal(content, await ReceiveAsync(sent.Link));
    }

    [Fact]
    public async Task Send_ServerRefusesAPart_FailsWithItsCode_DoesNotHang()
    {
        string file = WriteFile("refused.bin", RandomNumberGenerator.GetBytes(4 * PartSize));
        using var refusing = new FlakyPartHandler(part: 1, breakAfterBytes: null);

        var error = await Assert.ThrowsAsync<DropException>(() => SendAsync(file, refusing).WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Equal(DropErrorCodes.NotOwner, error.Code);
        Assert.Equal(1, refusing.Attempts);
    }

    private string WriteFile(string name, byte[] content)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private async Task<DropSendResult> SendAsync(string file, DelegatingHandler handler)
    {
        handler.InnerHandler = new SocketsHttpHandler();
        using var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = _server.BaseAddress };
        var sender = new DropSender(new DropApi(http), _server.BaseAddress.GetLeftPart(UriPartial.Authority));
        return await sender.SendAsync(new DropSendOptions { FilePath = file, Expires = TimeSpan.FromHours(1) });
    }

    private async Task<byte[]> ReceiveAsync(string link)
    {
        string target = Directory.CreateDirectory(Path.Combine(_directory, "get")).FullName;
        using var http = new HttpClient { BaseAddress = _server.BaseAddress };
        var receiver = new DropReceiver(new DropApi(http));
        using OpenedDrop drop = await receiver.OpenAsync(DropLink.TryParse(link)!, null);
        DropGetResult result = await receiver.DownloadAsync(drop, target);
        return await File.ReadAllBytesAsync(result.Path);
    }

    /// <summary>
    /// Breaks the first PUT of one part: after <c>breakAfterBytes</c> of its body (a connection lost mid-part, which the
    /// sender retries), or at once with a 403 problem when null (a refusal, which it must not retry).
    /// </summary>
    private sealed class FlakyPartHandler(int part, int? breakAfterBytes) : DelegatingHandler
    {
        private int _attempts;

        public int Attempts => _attempts;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            bool isPart = request.Method == HttpMethod.Put && request.RequestUri!.AbsolutePath.EndsWith($"/parts/{part}", StringComparison.Ordinal);
            if (!isPart || Interlocked.Increment(ref _attempts) > 1)
            {
                return await base.SendAsync(request, cancellationToken);
            }

            if (breakAfterBytes is not int limit)
            {
                return new HttpResponseMessage(HttpStatusCode.Forbidden)
                {
                    Content = new StringContent("""{"code":"not-owner","title":"Forbidden"}""", System.Text.Encoding.UTF8, "application/problem+json"),
                };
            }

            try
            {
                await request.Content!.CopyToAsync(new BreakingStream(limit), cancellationToken);
            }
            catch (IOException ex)
            {
                throw new HttpRequestException("simulated connection reset", ex);
            }

            throw new InvalidOperationException("the body was shorter than the break point");
        }
    }

    /// <summary>Accepts <c>limit</c> bytes, then fails like a reset connection.</summary>
    private sealed class BreakingStream(int limit) : Stream
    {
        private int _written;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _written += buffer.Length;
            if (_written >= limit)
            {
                throw new IOException("connection reset by peer (simulated)");
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
