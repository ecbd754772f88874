using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using MimeKit.Encodings;
using Perfolizer.Horology;
using Veil.Mail.Mime;

namespace Veil.MimeBench;

/// <summary>
/// Veil's MIME parser and base64 decoder against MimeKit's, each pair in one run so that the ratio (Veil / MimeKit,
/// the "Ratio" column; MimeKit is each category's baseline) is measured under the same load:
/// <list type="bullet">
/// <item>Base64: decoding a 1 MiB body written in 76-character CRLF lines (what a mail attachment looks like).</item>
/// <item>ParseFile: parsing a 2.3 MiB multipart message (text, HTML, three 512 KiB base64 attachments, one nested
/// message) from a file on disk; each side opens the file and parses it its usual way (Veil from the stream,
/// keeping offsets; MimeKit's <c>MimeMessage.Load</c>).</item>
/// <item>ParseFileAndDecode: the same, then decoding every leaf part's content.</item>
/// <item>ParseCorpus: parsing all 53 messages of tests/vectors/mime from their files.</item>
/// <item>DkimSign: signing a small message (bytes in, signed bytes out) with one RSA-2048 key, relaxed/relaxed.</item>
/// </list>
/// </summary>
[Config(typeof(Config))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class MimeBenchmarks
{
    private byte[] _base64 = [];
    private string _largeFile = string.Empty;
    private string[] _corpus = [];
    private byte[] _plain = [];
    private Veil.Mail.Dkim.DkimSigner? _veilSigner;
    private MimeKit.Cryptography.DkimSigner? _mimeKitSigner;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(15);
        var payload = new byte[1 << 20];
        random.NextBytes(payload);
        _base64 = TransferEncodingCodec.EncodeBase64(payload);

        _largeFile = Path.Combine(Path.GetTempPath(), $"veil-mimebench-{Environment.ProcessId}.eml");
        File.WriteAllBytes(_largeFile, LargeMessage(random));
        _corpus = Directory.GetFiles(CorpusRoot(), "*.eml", SearchOption.AllDirectories);
        Array.Sort(_corpus, StringComparer.Ordinal);

        _plain = Encoding.ASCII.GetBytes(
            "From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: Signing   speed\r\nDate: Mon, 7 Dec 2026 02:00:00 +0000\r\n" +
            "Message-ID: <sign@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
            string.Concat(Enumerable.Repeat("A line of body text, with  some   spacing.  \r\n", 40)));
        using var rsa = RSA.Create(2048);
        var pem = rsa.ExportRSAPrivateKeyPem();
        _veilSigner = new Veil.Mail.Dkim.DkimSigner(
            new Veil.Mail.Dkim.DkimSignerOptions { Domain = "example.org", Selector = "bench" }, Veil.Mail.Dkim.DkimSigningKey.ImportRsaPem(pem), TimeProvider.System);
        _mimeKitSigner = new MimeKit.Cryptography.DkimSigner(new MemoryStream(Encoding.ASCII.GetBytes(pem)), "example.org", "bench", MimeKit.Cryptography.DkimSignatureAlgorithm.RsaSha256)
        {
            HeaderCanonicalizationAlgorithm = MimeKit.Cryptography.DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = MimeKit.Cryptography.DkimCanonicalizationAlgorithm.Relaxed,
        };
    }

    [Benchmark(Baseline = true), BenchmarkCategory("DkimSign")]
    public int DkimSign_MimeKit()
    {
        // MimeKit signs a parsed message; bytes in and bytes out is the job, so parsing and writing count.
        var message = MimeKit.MimeMessage.Load(new MemoryStream(_plain));
        _mimeKitSigner!.Sign(message, ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"]);
        var options = MimeKit.FormatOptions.Default.Clone();
        options.NewLineFormat = MimeKit.NewLineFormat.Dos;
        using var output = new MemoryStream();
        message.WriteTo(options, output);
        return (int)output.Length;
    }

    [Benchmark, BenchmarkCategory("DkimSign")]
    public int DkimSign_Veil() => _veilSigner!.Sign(_plain).Length;

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_largeFile);

    [Benchmark(Baseline = true), BenchmarkCategory("Base64")]
    public int Base64_MimeKit()
    {
        var decoder = new Base64Decoder();
        var output = new byte[decoder.EstimateOutputLength(_base64.Length)];
        return decoder.Decode(_base64, 0, _base64.Length, output);
    }

    [Benchmark, BenchmarkCategory("Base64")]
    public int Base64_Veil() => TransferEncodingCodec.DecodeBase64(_base64, out _).Length;

    [Benchmark(Baseline = true), BenchmarkCategory("ParseFile")]
    public int ParseFile_MimeKit()
    {
        using var message = MimeKit.MimeMessage.Load(_largeFile);
        return message.BodyParts.Count();
    }

    [Benchmark, BenchmarkCategory("ParseFile")]
    public int ParseFile_Veil()
    {
        using var file = File.OpenRead(_largeFile);
        var message = MimeMessage.Parse(file);
        return message.Root.DescendantsAndSelf().Count();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("ParseFileAndDecode")]
    public long ParseFileAndDecode_MimeKit()
    {
        using var message = MimeKit.MimeMessage.Load(_largeFile);
        long total = 0;
        foreach (var part in message.BodyParts.OfType<MimeKit.MimePart>())
        {
            using var decoded = new MemoryStream();
            part.Content?.DecodeTo(decoded);
            total += decoded.Length;
        }

        return total;
    }

    [Benchmark, BenchmarkCategory("ParseFileAndDecode")]
    public long ParseFileAndDecode_Veil()
    {
        using var file = File.OpenRead(_largeFile);
        var message = MimeMessage.Parse(file);
        long total = 0;
        foreach (var part in message.Root.DescendantsAndSelf().Where(e => !e.IsMultipart && e.EncapsulatedMessage is null))
        {
            total += part.DecodeContent().Length;
        }

        return total;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("ParseCorpus")]
    public int ParseCorpus_MimeKit()
    {
        var parts = 0;
        foreach (var path in _corpus)
        {
            using var message = MimeKit.MimeMessage.Load(path);
            parts += message.BodyParts.Count();
        }

        return parts;
    }

    [Benchmark, BenchmarkCategory("ParseCorpus")]
    public int ParseCorpus_Veil()
    {
        var parts = 0;
        foreach (var path in _corpus)
        {
            using var file = File.OpenRead(path);
            parts += MimeMessage.Parse(file).Root.DescendantsAndSelf().Count();
        }

        return parts;
    }

    /// <summary>A multipart/mixed message: alternative text + HTML, three base64 attachments, one message/rfc822.</summary>
    internal static byte[] LargeMessage(Random random)
    {
        var sb = new StringBuilder();
        sb.Append("From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\nSubject: Quarterly report\r\n")
          .Append("Date: Mon, 7 Dec 2026 02:00:00 +0000\r\nMessage-ID: <bench@example.org>\r\nMIME-Version: 1.0\r\n")
          .Append("Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\nPreamble.\r\n")
          .Append("--outer\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n")
          .Append("--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
        for (var i = 0; i < 200; i++)
        {
            sb.Append("Line ").Append(i).Append(" of the report =E2=80=94 caf=C3=A9, na=C3=AFve, and some more words here.\r\n");
        }

        sb.Append("--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>");
        for (var i = 0; i < 200; i++)
        {
            sb.Append("<p>Line ").Append(i).Append(" of the report</p>\r\n");
        }

        sb.Append("</body></html>\r\n--alt--\r\n");
        for (var a = 0; a < 3; a++)
        {
            var bytes = new byte[512 * 1024];
            random.NextBytes(bytes);
            sb.Append("--outer\r\nContent-Type: application/octet-stream; name=\"part").Append(a).Append(".bin\"\r\n")
              .Append("Content-Disposition: attachment; filename=\"part").Append(a).Append(".bin\"\r\n")
              .Append("Content-Transfer-Encoding: base64\r\n\r\n")
              .Append(Encoding.ASCII.GetString(TransferEncodingCodec.EncodeBase64(bytes)));
        }

        sb.Append("--outer\r\nContent-Type: message/rfc822\r\n\r\nFrom: Carol <carol@example.com>\r\nSubject: Fwd\r\n")
          .Append("Content-Type: text/plain\r\n\r\nForwarded body.\r\n--outer--\r\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    internal static string CorpusRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "vectors", "mime");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/vectors/mime not found above " + AppContext.BaseDirectory);
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            // ShortRun (3 warm-ups, 3 iterations): the machine is shared, so runs stay short and Veil and MimeKit
            // always run back to back in one process; in-process avoids building a generated project (which would
            // inherit this repo's warnings-as-errors analyzers).
            AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
            AddDiagnoser(MemoryDiagnoser.Default);
            AddColumn(StatisticColumn.Median);
            SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Microsecond);
        }
    }
}
