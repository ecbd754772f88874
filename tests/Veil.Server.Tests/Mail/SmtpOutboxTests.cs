using System.Net;
using System.Net.Http.Json;
using System.Text;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;
using Veil.Server.Tests.Kit;

namespace Veil.Server.Tests.Mail;

/// <summary>With a smarthost configured, notification mail leaves through the durable queue over real SMTP.</summary>
public sealed class SmtpOutboxTests
{
    [Fact]
    public async Task Notify_WithSmarthost_DeliversOverSmtp_AndWritesNoEmlFile()
    {
        var sinkDirectory = Directory.CreateTempSubdirectory("veil-smarthost-");
        try
        {
            // Veil's own SMTP engine plays the smarthost: it accepts everything into a durable spool.
            var spool = new FileSpool(sinkDirectory.FullName);
            var smarthost = new SmtpServer(new SmtpServerOptions(), new AcceptAll(), spool, TimeProvider.System);
            await using var listener = smarthost.Listen(new IPEndPoint(IPAddress.Loopback, 0));
            await using var server = await VeilTestServer.StartAsync(o =>
            {
                o.MapEndpoints = TestEndpoints.Map;
                o.Settings["Veil:Mail:Smarthost"] = $"127.0.0.1:{listener.LocalEndPoint.Port}";
                o.Settings["Veil:Mail:SmarthostTls"] = "None";
            });

            using var response = await server.Client.PostAsJsonAsync("/test/notify", new NotifyRequest("bob@example.org", "Queued subject", "Queued body"));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

            var delivered = await WaitForOneAsync(spool);
            Assert.Equal(["bob@example.org"], delivered.Envelope.Recipients.Select(r => r.ToString()));
            using var content = new StreamReader(spool.OpenContent(delivered.Id), Encoding.UTF8);
            var text = await content.ReadToEndAsync();
            Assert.Contains("Subject: Queued subject", text, StringComparison.Ordinal);
            Assert.Contains("Queued body", text, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(server.DataDirectory, "outbox")) && Directory.EnumerateFiles(Path.Combine(server.DataDirectory, "outbox")).Any());
        }
        finally
        {
            sinkDirectory.Delete(recursive: true);
        }
    }

    private static async Task<SpooledMessage> WaitForOneAsync(FileSpool spool)
    {
        // The queue delivers on its own task: poll with a deadline (not a timing assertion).
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var pending = await spool.PendingAsync(deadline.Token);
            if (pending.Count > 0)
            {
                return Assert.Single(pending);
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    private sealed class AcceptAll : IRecipientResolver
    {
        public ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken) => ValueTask.FromResult(RecipientDecision.Accept);
    }
}
