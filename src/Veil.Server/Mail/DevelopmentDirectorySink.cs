using Veil.Mail.Spool;

namespace Veil.Server.Mail;

/// <summary>
/// Development aid (<c>Veil:Mail:Smtp:DevelopmentSinkDirectory</c>, refused in production): writes each
/// message's raw bytes to <c>&lt;dir&gt;/&lt;spool-id&gt;.eml</c>. Named by spool id, so a redelivery after
/// a crash overwrites the same file (the sink is idempotent, as <see cref="IMessageSink"/> requires).
/// </summary>
internal sealed class DevelopmentDirectorySink(string directory) : IMessageSink
{
    public async ValueTask<SinkResult> ProcessAsync(SpooledMessage message, Stream content, CancellationToken cancellationToken)
    {
        Platform.Hosting.DataDirectory.CreateOwnerOnly(directory);
        var final = Path.Combine(directory, message.Id.Value + ".eml");
        var temp = final + ".tmp";
        await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
        {
            await content.CopyToAsync(file, cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, final, overwrite: true);
        return SinkResult.Done;
    }
}
