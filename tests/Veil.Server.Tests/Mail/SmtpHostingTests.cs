using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Veil.Mail.Dkim;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;
using Veil.Server.Mail;
using Veil.Server.Platform.Hosting;
using Veil.Server.Platform.Persistence;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Mail;

/// <summary>The SMTP engine as Veil.Server hosts it: real sockets, the real spool, module seams faked only at the edge.</summary>
public sealed class SmtpHostingTests
{
    private static Task<VeilTestServer> StartAsync(Action<VeilTestServerOptions>? configure = null) => VeilTestServer.StartAsync(o =>
    {
        o.Settings["Veil:Mail:Smtp:Listen"] = "127.0.0.1:0";
        configure?.Invoke(o);
    });

    [Fact]
    public async Task Rcpt_NoModuleResolver_IsUnknown550()
    {
        await using var server = await StartAsync();
        using var smtp = await SmtpLine.ConnectAsync(server);

        await smtp.SendAsync("EHLO test");
        await smtp.SendAsync("MAIL FROM:<a@sender.test>");
        var reply = await smtp.SendAsync("RCPT TO:<someone@example.org>");

        Assert.StartsWith("550 5.1.1", reply, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Data_ModuleResolverAndSink_MessageReachesTheSinkAndLeavesTheSpool()
    {
        var sink = new RecordingSink();
        await using var server = await StartAsync(o => o.ConfigureServices = services =>
        {
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IRecipientResolver>(new AcceptDomainsResolver(new HashSet<string> { "example.org" })));
            services.AddSingleton<IMessageSink>(sink);
        });
        using var smtp = await SmtpLine.ConnectAsync(server);

        await smtp.SendAsync("EHLO test");
        await smtp.SendAsync("MAIL FROM:<a@sender.test>");
        Assert.StartsWith("250", await smtp.SendAsync("RCPT TO:<Someone@Example.ORG>"), StringComparison.Ordinal);
        Assert.StartsWith("354", await smtp.SendAsync("DATA"), StringComparison.Ordinal);
        Assert.StartsWith("250 2.0.0", await smtp.SendAsync("Subject: hi\r\n\r\nhello\r\n."), StringComparison.Ordinal);

        var received = await sink.Received.Reader.ReadAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        Assert.Equal("Subject: hi\r\n\r\nhello\r\n", received);
        for (int i = 0; i < 600 && FileSpool.CountPending(server.DataDirectory) > 0; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(0, FileSpool.CountPending(server.DataDirectory));
    }

    [Fact]
    public async Task Start_NoCertificateConfigured_GeneratesOwnerOnlyPfxAndOffersStartTls()
    {
        await using var server = await StartAsync();
        using var smtp = await SmtpLine.ConnectAsync(server);

        var ehlo = await smtp.SendAsync("EHLO test");

        Assert.Contains("STARTTLS", ehlo, StringComparison.Ordinal);
        var pfx = Path.Combine(server.DataDirectory, SmtpCertificates.GeneratedFileName);
        Assert.True(File.Exists(pfx));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(pfx));
        }

        Assert.Single(server.Logs.Entries, e => e.Contains("SELF-SIGNED certificate generated", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stop_OpenSession_Hears421()
    {
        var server = await StartAsync();
        using var smtp = await SmtpLine.ConnectAsync(server);
        await smtp.SendAsync("EHLO test");

        var stopping = server.DisposeAsync().AsTask();
        var reply = await smtp.ReadReplyAsync();
        await stopping;

        Assert.StartsWith("421 4.3.2", reply, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_DevelopmentAidsInProduction_AreRefusedNamingTheSetting()
    {
        var validator = new SmtpHostOptionsValidator(Options.Create(new VeilOptions { Production = true }));

        var result = validator.Validate(null, new SmtpHostOptions { Listen = "127.0.0.1:25", AcceptDomains = "example.org", DevelopmentSinkDirectory = "/tmp/x" });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("Veil:Mail:Smtp:AcceptDomains", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Veil:Mail:Smtp:DevelopmentSinkDirectory", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("localhost:25")]
    [InlineData("127.0.0.1")]
    [InlineData("::1:25")]
    [InlineData("127.0.0.1:70000")]
    public void Options_BadListenAddress_IsRefused(string listen)
    {
        var validator = new SmtpHostOptionsValidator(Options.Create(new VeilOptions()));

        var result = validator.Validate(null, new SmtpHostOptions { Listen = listen });

        Assert.Contains(result.Failures!, f => f.StartsWith("Veil:Mail:Smtp:Listen", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DkimCreate_PrivateKeyColumn_IsSealedNotThePlainKey()
    {
        await using var server = await VeilTestServer.StartAsync();
        await using var scope = server.Services.CreateAsyncScope();
        var admin = scope.ServiceProvider.GetRequiredService<DkimKeyAdmin>();

        var created = await admin.CreateAsync("example.org", "s1", DkimAlgorithm.Ed25519Sha256, CancellationToken.None);

        Assert.Equal(DkimCreateStatus.Created, created.Status);
        var db = scope.ServiceProvider.GetRequiredService<VeilDbContext>();
        var entity = await db.Set<DkimKey>().AsNoTracking().SingleAsync();
        Assert.Equal(32, entity.PrivateKey.Length);
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"PrivateKey\" FROM \"MailDkimKeys\"";
        var stored = (byte[])(await command.ExecuteScalarAsync())!;
        Assert.NotEqual(entity.PrivateKey, stored);
        Assert.Equal(-1, stored.AsSpan().IndexOf(entity.PrivateKey));
        using var key = entity.OpenSigningKey();
        Assert.Equal(created.Key!.RecordValue, DkimDnsRecord.For(key));
    }

    private sealed class RecordingSink : IMessageSink
    {
        public System.Threading.Channels.Channel<string> Received { get; } = System.Threading.Channels.Channel.CreateUnbounded<string>();

        public async ValueTask<SinkResult> ProcessAsync(SpooledMessage message, Stream content, CancellationToken cancellationToken)
        {
            using var reader = new StreamReader(content, Encoding.UTF8);
            await Received.Writer.WriteAsync(await reader.ReadToEndAsync(cancellationToken), cancellationToken);
            return SinkResult.Done;
        }
    }

    private sealed class SmtpLine : IDisposable
    {
        private readonly TcpClient _client;
        private readonly StreamReader _reader;
        private readonly Stream _stream;

        private SmtpLine(TcpClient client)
        {
            _client = client;
            _stream = client.GetStream();
            _reader = new StreamReader(_stream, Encoding.ASCII);
        }

        public static async Task<SmtpLine> ConnectAsync(VeilTestServer server)
        {
            var endPoint = server.Services.GetRequiredService<SmtpHostService>().LocalEndPoint!;
            var client = new TcpClient();
            await client.ConnectAsync(endPoint);
            var line = new SmtpLine(client);
            Assert.StartsWith("220", await line.ReadReplyAsync(), StringComparison.Ordinal);
            return line;
        }

        public async Task<string> SendAsync(string command)
        {
            await _stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"));
            return await ReadReplyAsync();
        }

        public async Task<string> ReadReplyAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var all = new StringBuilder();
            while (await _reader.ReadLineAsync(timeout.Token) is { } line)
            {
                all.Append(line).Append('\n');
                if (line.Length < 4 || line[3] == ' ')
                {
                    break;
                }
            }

            return all.ToString();
        }

        public void Dispose() => _client.Dispose();
    }
}
