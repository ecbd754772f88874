using System.Text;

namespace Veil.Mail.Tests.Smtp;

public sealed class SmtpFuzzTests
{
    private static readonly string[] Seeds =
    [
        "EHLO x\r\n", "HELO x\r\n", "MAIL FROM:<a@b.test>\r\n", "MAIL FROM:<> SIZE=99999999999999999999999\r\n",
        "RCPT TO:<alias@veil.test>\r\n", "RCPT TO:<unknown@x>\r\n", "DATA\r\n", "Subject: x\r\n\r\nbody\r\n.\r\n",
        "RSET\r\n", "NOOP\r\n", "VRFY x\r\n", "EXPN x\r\n", "HELP\r\n", "STARTTLS\r\n", "\r\n", ".\r\n", "\n.\n",
        "MAIL FROM:<\"\\\r\n", "RCPT TO:<@:@>\r\n", "MAIL FROM:<a@[1.2.3.4]> BODY=8BITMIME SMTPUTF8\r\n",
    ];

    [Fact]
    public async Task RandomAndMutatedCommandStreams_NeverBreakTheEngine()
    {
        await using var host = SmtpTestHost.Start(o =>
        {
            o.MaxMessageSize = 64 * 1024;
            o.CommandTimeout = TimeSpan.FromSeconds(30);
        });
        var random = new Random(5321);
        for (int iteration = 0; iteration < 150; iteration++)
        {
            using var c = await host.ConnectAsync();
            var stream = new List<byte>();
            int parts = random.Next(1, 25);
            for (int i = 0; i < parts; i++)
            {
                byte[] part = random.Next(4) switch
                {
                    0 => RandomBytes(random, random.Next(0, 700)),
                    _ => Mutate(random, Encoding.UTF8.GetBytes(Seeds[random.Next(Seeds.Length)])),
                };
                stream.AddRange(part);
            }
            stream.AddRange("\r\n.\r\nQUIT\r\n"u8.ToArray());
            try
            {
                await c.SendAsync(stream.ToArray());
            }
            catch (IOException)
            {
                // The server may close first (QUIT inside the stream, too many errors): fine.
            }
            // Read until the server closes; bounded by the client's generous per-read timeout.
            for (int replies = 0; replies < 500 && await c.ReadReplyAsync() is not null; replies++) { }
        }

        using var fresh = await host.ConnectAsync();
        Assert.StartsWith("220", await fresh.ReadReplyAsync());
        Assert.StartsWith("250", await fresh.CommandAsync("EHLO after.fuzz"));
        Assert.Equal(1, host.Server.ActiveConnections);
    }

    private static byte[] RandomBytes(Random r, int n)
    {
        var b = new byte[n];
        r.NextBytes(b);
        return b;
    }

    private static byte[] Mutate(Random r, byte[] input)
    {
        var b = new List<byte>(input);
        int edits = r.Next(0, 4);
        for (int i = 0; i < edits && b.Count > 0; i++)
        {
            int at = r.Next(b.Count);
            switch (r.Next(3))
            {
                case 0: b[at] = (byte)r.Next(256); break;
                case 1: b.RemoveAt(at); break;
                default: b.Insert(at, (byte)r.Next(256)); break;
            }
        }
        return [.. b];
    }
}
