using Veil.Mail.Mime;

namespace Veil.MimeBench;

/// <summary>
/// Write-back on the MIME corpus: how many messages each library writes back byte for byte after parsing with no edit
/// (what a forwarder that must not break DKIM needs). MimeKit gets its best chance: CRLF and LF output both tried.
/// </summary>
internal static class CorpusCounts
{
    internal static void Print()
    {
        var files = Directory.GetFiles(MimeBenchmarks.CorpusRoot(), "*.eml", SearchOption.AllDirectories);
        int veil = 0, mimeKit = 0;
        foreach (var path in files)
        {
            var bytes = File.ReadAllBytes(path);
            if (new MimeRewriter(MimeMessage.Parse(bytes)).ToArray().AsSpan().SequenceEqual(bytes))
            {
                veil++;
            }

            using var message = MimeKit.MimeMessage.Load(new MemoryStream(bytes));
            if (WritesBack(message, bytes, MimeKit.NewLineFormat.Dos) || WritesBack(message, bytes, MimeKit.NewLineFormat.Unix))
            {
                mimeKit++;
            }
        }

        Console.WriteLine($"corpus messages: {files.Length}");
        Console.WriteLine($"byte-exact write-back: Veil {veil}/{files.Length}, MimeKit {mimeKit}/{files.Length}");
    }

    private static bool WritesBack(MimeKit.MimeMessage message, byte[] original, MimeKit.NewLineFormat newLine)
    {
        var options = MimeKit.FormatOptions.Default.Clone();
        options.NewLineFormat = newLine;
        using var output = new MemoryStream();
        message.WriteTo(options, output);
        return output.ToArray().AsSpan().SequenceEqual(original);
    }
}
