using System.Collections.Concurrent;
using System.Net;
using Veil.Mail.Smtp;
using Veil.Mail.Spool;

namespace Veil.Mail.Tests.Smtp;

/// <summary>The engine asks resolvers with the whole query: the recipient, the transaction's reverse path and the client address.</summary>
public sealed class RecipientQueryTests
{
    [Theory]
    [InlineData("MAIL FROM:<Owner@Example.NET>", "Owner@Example.NET")]
    [InlineData("MAIL FROM:<>", "")]
    public async Task Rcpt_ResolverReceivesReversePathAndClientAddress(string mailFrom, string expectedReversePath)
    {
        var resolver = new RecordingResolver();
        var spool = SmtpTestHost.NewTempDir();
        await using var listener = new SmtpServer(new SmtpServerOptions { ServerName = "mx.veil.test" }, resolver, new FileSpool(spool), TimeProvider.System)
            .Listen(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = new SmtpTestClient();
        await client.ConnectAsync(listener.LocalEndPoint.Port);
        using var cleanup = new DirectoryCleanup(spool);

        Assert.StartsWith("220 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.example"), StringComparison.Ordinal);
        Assert.StartsWith("250", await client.CommandAsync(mailFrom), StringComparison.Ordinal);
        var reply = await client.CommandAsync("RCPT TO:<ra.abc@alias.example>");

        Assert.StartsWith("250", reply, StringComparison.Ordinal);
        var query = Assert.Single(resolver.Queries);
        Assert.Equal(new RecipientQuery("ra.abc@alias.example", expectedReversePath, IPAddress.Loopback), query);
    }

    [Fact]
    public async Task AddressOnlyResolver_StillAnsweredThroughTheDefaultMethod()
    {
        IRecipientResolver resolver = new AddressOnlyResolver();

        var decision = await resolver.ResolveAsync(new RecipientQuery("unknown@alias.example", "a@b.example", null), CancellationToken.None);

        Assert.Equal(RecipientDecision.Unknown, decision);
    }

    private sealed class DirectoryCleanup(string path) : IDisposable
    {
        public void Dispose() => Directory.Delete(path, recursive: true);
    }

    private sealed class RecordingResolver : IRecipientResolver
    {
        public ConcurrentQueue<RecipientQuery> Queries { get; } = new();

        public ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The engine must call the query overload.");

        public ValueTask<RecipientDecision> ResolveAsync(RecipientQuery query, CancellationToken cancellationToken)
        {
            Queries.Enqueue(query);
            return ValueTask.FromResult(RecipientDecision.Accept);
        }
    }

    private sealed class AddressOnlyResolver : IRecipientResolver
    {
        public ValueTask<RecipientDecision> ResolveAsync(string address, CancellationToken cancellationToken) =>
            ValueTask.FromResult(address.StartsWith("unknown", StringComparison.Ordinal) ? RecipientDecision.Unknown : RecipientDecision.Accept);
    }
}
