// Every message of the corpus parses without an exception and writes back byte-identical; where the oracle is
// unambiguous, part and attachment counts and the decoded text of text parts match stalwart mail-parser's.
//
// "Unambiguous" is decided per message, mechanically:
//   1. Python's email package (INDEX.tsv) found no defect in it, so two independent parsers read one structure, and
//   2. no oracle part has is_encoding_problem = true (mail-parser then reclassifies undecodable text as binary,
//      a policy choice rather than a reading of the message).
// Exceptions, even though they pass the rule above:
//   - malformed/000.eml: boundary=":foo" (quoted, legal per RFC 2046); mail-parser rejects the ':' and reports a
//     single part, Python and Veil find the four delimiters.
// Text: compared for every part the oracle gives as Text or Html, with CRLF normalised to LF (mail-parser's output).
// Attachments: Veil implements RFC 8621 §4.1.4, where inline image/audio/video parts shown by both the text and
// the HTML body are not attachments; mail-parser lists them as attachments as well. The comparison counts Veil's
// attachments plus the inline media of its text/HTML bodies, which is mail-parser's definition.
using System.Text.Json;
using Veil.Mail.Mime;

namespace Veil.Mail.Tests.Mime;

public sealed class CorpusTests
{
    private static readonly HashSet<string> OracleExceptions = ["malformed/000.eml"];

    public static TheoryData<string> Messages() => [.. MimeCorpus.Messages()];

    public static TheoryData<string> UnambiguousMessages() => [.. MimeCorpus.Messages().Where(IsUnambiguous)];

    internal static int CountParts(MimeEntity entity) => 1 + entity.Children.Sum(CountParts);

    [Fact]
    public void Corpus_HasAllMessages_AndMostAreUnambiguous()
    {
        Assert.Equal(53, Messages().Count);
        Assert.InRange(UnambiguousMessages().Count, 25, 53);
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Parse_CorpusMessage_DoesNotThrowAndWritesBackIdentical(string name)
    {
        var bytes = MimeCorpus.Bytes(name);

        var message = MimeMessage.Parse(bytes);
        var written = new MimeRewriter(message).ToArray();

        Assert.Equal(bytes, written);
        Assert.All(message.Root.DescendantsAndSelf(), e => Assert.Equal(bytes.AsSpan(e.Start, e.End - e.Start).ToArray(), e.Raw.ToArray()));
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Parse_CorpusMessage_EveryPartDecodesWithoutThrowing(string name)
    {
        var message = MimeMessage.Parse(MimeCorpus.Bytes(name));

        var texts = message.Root.DescendantsAndSelf().Where(e => !e.IsMultipart).Select(e => e.GetText()).ToList();

        Assert.NotEmpty(texts);
    }

    [Theory]
    [MemberData(nameof(UnambiguousMessages))]
    public void Parse_UnambiguousMessage_PartAndAttachmentCountsMatchOracle(string name)
    {
        using var oracle = MimeCorpus.Oracle(name);
        var message = MimeMessage.Parse(MimeCorpus.Bytes(name));

        var structure = message.GetBodyStructure();
        var attachments = structure.Attachments
            .Concat(structure.TextBody.Concat(structure.HtmlBody).Where(IsInlineMedia))
            .Distinct()
            .Count();

        Assert.Equal(oracle.RootElement.GetProperty("parts").GetArrayLength(), CountParts(message.Root));
        Assert.Equal(oracle.RootElement.GetProperty("attachments").GetArrayLength(), attachments);
    }

    [Theory]
    [MemberData(nameof(UnambiguousMessages))]
    public void Parse_UnambiguousMessage_TextPartsDecodeAsOracle(string name)
    {
        using var oracle = MimeCorpus.Oracle(name);
        var message = MimeMessage.Parse(MimeCorpus.Bytes(name));
        var flat = Flatten(message.Root).ToList();
        var parts = oracle.RootElement.GetProperty("parts");

        for (var i = 0; i < parts.GetArrayLength(); i++)
        {
            var body = parts[i].GetProperty("body");
            if (body.ValueKind == JsonValueKind.Object && (body.TryGetProperty("Text", out var text) || body.TryGetProperty("Html", out text)))
            {
                // mail-parser hands out text with LF line endings; compare with line endings normalised.
                Assert.Equal(text.GetString()!.Replace("\r\n", "\n", StringComparison.Ordinal), flat[i].GetText().Replace("\r\n", "\n", StringComparison.Ordinal));
            }
        }
    }

    private static bool IsUnambiguous(string name)
    {
        if (OracleExceptions.Contains(name) || MimeCorpus.IndexDefects(name).Length > 0)
        {
            return false;
        }

        using var oracle = MimeCorpus.Oracle(name);
        return !oracle.RootElement.GetProperty("parts").EnumerateArray().Any(p => p.GetProperty("is_encoding_problem").GetBoolean());
    }

    private static bool IsInlineMedia(MimeEntity e) => e.ContentType.MediaType is "image" or "audio" or "video";

    private static IEnumerable<MimeEntity> Flatten(MimeEntity entity)
    {
        yield return entity;
        foreach (var child in entity.Children)
        {
            foreach (var e in Flatten(child))
            {
                yield return e;
            }
        }
    }
}
