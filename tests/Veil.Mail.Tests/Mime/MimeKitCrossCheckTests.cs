// Every message of the MIME corpus (tests/vectors/mime) through Veil's parser and through MimeKit 4.18.2, a test-only
// oracle (ADR 0002). Per message the two readings are compared on four aspects:
//   structure       the tree of media types (multipart children in parentheses, an encapsulated message in brackets)
//   headers <path>  the field names of each entity, in order; for a message (the root, an encapsulated one) sorted,
//                   because MimeKit splits a message's fields between the message and its body entity
//   values <path>   each field's name and raw value (bytes after the colon, line breaks removed, white space collapsed),
//                   so the two parsers give every field the same bytes
//   subject         the root Subject with RFC 2047 encoded words decoded
//   body <path>     the decoded content of each leaf (compared only when the structures agree, so paths match)
// Where they disagree and Veil is right, the disagreement is listed in mimekit_expected_differences.tsv with a
// one-line reason. The test fails on a disagreement missing from that file (a new one: Veil or MimeKit changed) and
// on an entry that no longer disagrees (the file must stay true).
using System.Security.Cryptography;
using System.Text;
using Veil.Mail.Mime;
using Veil.Mail.Tests.Dkim;
using Kit = MimeKit;

namespace Veil.Mail.Tests.Mime;

public sealed class MimeKitCrossCheckTests
{
    private const string ExpectedFile = "mimekit_expected_differences.tsv";

    [Fact]
    public void Corpus_VeilAndMimeKitAgree_ExceptTheRecordedDifferences()
    {
        var expected = ReadExpected();
        var actual = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in MimeCorpus.Messages())
        {
            foreach (var aspect in Disagreements(MimeCorpus.Bytes(name)))
            {
                actual.Add(name + "\t" + aspect);
            }
        }

        var unexpected = actual.Where(d => !expected.ContainsKey(d)).ToList();
        var stale = expected.Keys.Where(d => !actual.Contains(d)).ToList();

        Assert.True(unexpected.Count == 0, "New disagreements with MimeKit (fix Veil, or record why Veil is right):\n" + string.Join('\n', unexpected.Select(u => u + "\t" + Explain(u))));
        Assert.True(stale.Count == 0, "Recorded differences that no longer occur (remove them):\n" + string.Join('\n', stale));
    }

    [Fact]
    public void ExpectedDifferences_EachHasAReason()
    {
        foreach (var (key, reason) in ReadExpected())
        {
            Assert.False(string.IsNullOrWhiteSpace(reason), key);
        }
    }

    [Fact]
    public void Comparison_DetectsADisagreement()
    {
        // The comparison itself must be able to fail: a message whose body MimeKit and Veil read differently by
        // construction (Veil's view is edited after parsing) shows up as a body disagreement.
        var bytes = "Content-Type: text/plain\r\nSubject: s\r\n\r\nbody\r\n"u8.ToArray();

        Assert.Empty(Disagreements(bytes));
        Assert.Contains("body 0", Disagreements(bytes, veilBody: _ => "other"u8.ToArray()));
    }

    internal static IReadOnlyList<string> Disagreements(byte[] bytes, Func<MimeEntity, byte[]>? veilBody = null)
    {
        var veil = MimeMessage.Parse(bytes);
        using var kit = Kit.MimeMessage.Load(new MemoryStream(bytes));
        var result = new List<string>();

        var veilLeaves = new List<(string Path, MimeEntity Entity)>();
        var kitLeaves = new List<(string Path, Kit.MimeEntity Entity)>();
        var veilHeaders = new Dictionary<string, string>(StringComparer.Ordinal);
        var kitHeaders = new Dictionary<string, string>(StringComparer.Ordinal) { ["0"] = MessageNames(kit), ["values 0"] = MessageValues(kit) };
        var veilStructure = Describe(veil.Root, "0", veilLeaves, veilHeaders, message: true);
        var kitStructure = kit.Body is null ? "(none)" : Describe(kit.Body, "0", kitLeaves, kitHeaders, root: true);

        if (veilStructure != kitStructure)
        {
            result.Add("structure");
        }

        foreach (var path in veilHeaders.Keys.Union(kitHeaders.Keys).Order(StringComparer.Ordinal))
        {
            if (veilHeaders.GetValueOrDefault(path) != kitHeaders.GetValueOrDefault(path))
            {
                result.Add(path.StartsWith("values ", StringComparison.Ordinal) ? path : "headers " + path);
            }
        }

        if ((veil.Root.GetHeader("Subject")?.DecodedValue ?? string.Empty) != (kit.Subject ?? string.Empty))
        {
            result.Add("subject");
        }

        if (veilStructure == kitStructure)
        {
            for (var i = 0; i < veilLeaves.Count; i++)
            {
                var ours = (veilBody ?? (e => e.DecodeContent()))(veilLeaves[i].Entity);
                if (!ours.AsSpan().SequenceEqual(Decode(kitLeaves[i].Entity)))
                {
                    result.Add("body " + veilLeaves[i].Path);
                }
            }
        }

        return result;
    }

    private static string Describe(MimeEntity e, string path, List<(string, MimeEntity)> leaves, Dictionary<string, string> headers, bool message = false)
    {
        var names = e.Headers.Select(h => h.Name.ToLowerInvariant());
        headers[path] = string.Join(",", message ? names.Order(StringComparer.Ordinal) : names);
        var values = e.Headers.Select(h => h.Name.ToLowerInvariant() + ":" + Normalise(h.Raw.Span[(h.Raw.Span.IndexOf((byte)':') + 1)..]));
        headers["values " + path] = string.Join("\n", message ? values.Order(StringComparer.Ordinal) : values);
        var sb = new StringBuilder(e.ContentType.Value.ToLowerInvariant());
        if (e.IsMultipart)
        {
            sb.Append('(').AppendJoin(' ', e.Children.Select((c, i) => Describe(c, path + "." + i, leaves, headers))).Append(')');
        }
        else if (e.EncapsulatedMessage is { } inner)
        {
            sb.Append('[').Append(Describe(inner, path + ".m", leaves, headers, message: true)).Append(']');
        }
        else
        {
            leaves.Add((path, e));
        }

        return sb.ToString();
    }

    private static string Describe(Kit.MimeEntity e, string path, List<(string, Kit.MimeEntity)> leaves, Dictionary<string, string> headers, bool root = false)
    {
        if (!root)
        {
            headers[path] = Names(e.Headers);
            headers["values " + path] = Values(e.Headers);
        }

        var sb = new StringBuilder(e.ContentType.MimeType.ToLowerInvariant());
        switch (e)
        {
            case Kit.Multipart multipart when multipart.Count > 0:
                sb.Append('(').AppendJoin(' ', multipart.Select((c, i) => Describe(c, path + "." + i, leaves, headers))).Append(')');
                break;
            case Kit.MessagePart { Message: { } message }:
                headers[path + ".m"] = MessageNames(message);
                headers["values " + path + ".m"] = MessageValues(message);
                sb.Append('[').Append(message.Body is null ? "(none)" : Describe(message.Body, path + ".m", leaves, headers, root: true)).Append(']');
                break;
            default:
                leaves.Add((path, e));
                break;
        }

        return sb.ToString();
    }

    private static string Names(Kit.HeaderList list) => string.Join(",", list.Select(h => h.Field.ToLowerInvariant()));

    private static string Values(IEnumerable<Kit.Header> list) => string.Join("\n", list.Select(h => h.Field.ToLowerInvariant() + ":" + Normalise(h.RawValue)));

    private static string MessageValues(Kit.MimeMessage message) => string.Join("\n", message.Headers
        .Concat(message.Body?.Headers.Where(h => !message.Headers.Contains(h)) ?? [])
        .Select(h => h.Field.ToLowerInvariant() + ":" + Normalise(h.RawValue))
        .Order(StringComparer.Ordinal));

    private static string Normalise(ReadOnlySpan<byte> raw) =>
        string.Join(' ', Encoding.Latin1.GetString(raw).Split([' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));

    private static string MessageNames(Kit.MimeMessage message) => string.Join(",", message.Headers
        .Concat(message.Body?.Headers.Where(h => !message.Headers.Contains(h)) ?? [])
        .Select(h => h.Field.ToLowerInvariant())
        .Order(StringComparer.Ordinal));

    private static byte[] Decode(Kit.MimeEntity entity)
    {
        using var output = new MemoryStream();
        if (entity is Kit.MimePart { Content: { } content })
        {
            content.DecodeTo(output);
        }

        return output.ToArray();
    }

    private static Dictionary<string, string> ReadExpected()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(TestFiles.Project("Mime", ExpectedFile)))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var fields = line.Split('\t');
            Assert.True(fields.Length == 3, $"{ExpectedFile}: expected message<TAB>aspect<TAB>reason, got: {line}");
            result.Add(fields[0] + "\t" + fields[1], fields[2]);
        }

        return result;
    }

    // For a failure message: what each side saw, so the reader can judge who is right.
    private static string Explain(string difference)
    {
        var name = difference.Split('\t')[0];
        var bytes = MimeCorpus.Bytes(name);
        var veil = MimeMessage.Parse(bytes);
        using var kit = Kit.MimeMessage.Load(new MemoryStream(bytes));
        var leaves = new List<(string, MimeEntity)>();
        var kitLeaves = new List<(string, Kit.MimeEntity)>();
        var h1 = new Dictionary<string, string>(StringComparer.Ordinal);
        var h2 = new Dictionary<string, string>(StringComparer.Ordinal) { ["0"] = MessageNames(kit), ["values 0"] = MessageValues(kit) };
        var s1 = Describe(veil.Root, "0", leaves, h1, message: true);
        var s2 = kit.Body is null ? "(none)" : Describe(kit.Body, "0", kitLeaves, h2, root: true);
        var aspect = difference.Split('\t')[1];
        if (aspect.StartsWith("headers ", StringComparison.Ordinal))
        {
            var path = aspect["headers ".Length..];
            return $"veil=[{h1.GetValueOrDefault(path)}] mimekit=[{h2.GetValueOrDefault(path)}]";
        }

        if (aspect.StartsWith("values ", StringComparison.Ordinal))
        {
            var a = (h1.GetValueOrDefault(aspect) ?? string.Empty).Split('\n');
            var b = (h2.GetValueOrDefault(aspect) ?? string.Empty).Split('\n');
            return $"veil-only=[{string.Join(" | ", a.Except(b))}] mimekit-only=[{string.Join(" | ", b.Except(a))}]";
        }

        if (aspect == "subject")
        {
            return $"veil=[{veil.Root.GetHeader("Subject")?.DecodedValue}] mimekit=[{kit.Subject}]";
        }

        if (aspect.StartsWith("body ", StringComparison.Ordinal))
        {
            var path = aspect["body ".Length..];
            var i = leaves.FindIndex(l => l.Item1 == path);
            return $"veil={Hash(leaves[i].Item2.DecodeContent())} mimekit={Hash(Decode(kitLeaves[i].Item2))}";
        }

        return $"veil={s1} mimekit={s2}";
    }

    private static string Hash(byte[] bytes) => $"{bytes.Length}B:{Convert.ToHexString(SHA256.HashData(bytes))[..12]}";
}
