// Randomised mutation of corpus messages (fixed seed, bounded iterations): the parser never throws, every parse
// writes back byte-identical, and the tree stays within the limits.
using Veil.Mail.Mime;

namespace Veil.Mail.Tests.Mime;

public sealed class MimeMutationTests
{
    private static readonly byte[][] Tokens =
    [
        "\r\n"u8.ToArray(), "\n"u8.ToArray(), "--"u8.ToArray(), ":"u8.ToArray(), "=?utf-8?B?"u8.ToArray(), "?="u8.ToArray(),
        "Content-Type: multipart/mixed; boundary=\"1\"\r\n"u8.ToArray(), "=\r\n"u8.ToArray(), "*0*=utf-8''%"u8.ToArray(), [0], [0xFF],
    ];

    [Fact]
    public void Parse_MutatedCorpus_NeverThrowsAndStaysBounded()
    {
        var random = new Random(20261122);
        var limits = new MimeLimits { MaxDepth = 8, MaxParts = 200, MaxHeaderCount = 200 };
        var corpus = MimeCorpus.Messages().Select(MimeCorpus.Bytes).ToArray();

        for (var iteration = 0; iteration < 1500; iteration++)
        {
            var bytes = Mutate(corpus[random.Next(corpus.Length)], random);

            var message = MimeMessage.Parse(bytes, limits);
            foreach (var part in message.Root.DescendantsAndSelf())
            {
                _ = part.GetText();
                _ = part.FileName;
            }

            Assert.Equal(bytes, new MimeRewriter(message).ToArray());
            Assert.InRange(message.Root.DescendantsAndSelf().Count(), 1, limits.MaxParts);
            Assert.InRange(message.Defects.Count, 0, 1000);
        }
    }

    private static byte[] Mutate(byte[] source, Random random)
    {
        var list = new List<byte>(source);
        var edits = random.Next(1, 8);
        for (var e = 0; e < edits; e++)
        {
            var at = list.Count == 0 ? 0 : random.Next(list.Count);
            switch (random.Next(4))
            {
                case 0 when list.Count > 0:
                    list[at] = (byte)random.Next(256);
                    break;
                case 1 when list.Count > 0:
                    list.RemoveRange(at, Math.Min(random.Next(1, 64), list.Count - at));
                    break;
                case 2:
                    list.InsertRange(at, Tokens[random.Next(Tokens.Length)]);
                    break;
                default:
                    // Duplicate a slice, to grow nesting and repeat boundaries.
                    var length = Math.Min(random.Next(1, 256), list.Count - at);
                    list.InsertRange(at, list.GetRange(at, length));
                    break;
            }
        }

        return [.. list];
    }
}
