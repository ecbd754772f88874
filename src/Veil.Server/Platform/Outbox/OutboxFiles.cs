// The outbox directory's one way to write a message file, shared by notification mail (FileMailOutbox) and forwarded
// copies in development (DevelopmentOutboxTransport): a timestamped .eml name, written under a temporary dot-name and
// renamed, so a reader never sees half a message; mode 0600 because the mail is in clear.
using System.Globalization;
using System.Security.Cryptography;

namespace Veil.Server.Platform.Outbox;

internal static class OutboxFiles
{
    /// <summary>Writes one message file atomically and returns its name (not its path: the log names only the file).</summary>
    public static async Task<string> WriteAsync(string directory, DateTimeOffset now, string id, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        var fileName = string.Create(CultureInfo.InvariantCulture, $"{now:yyyyMMdd'T'HHmmss'.'fff'Z'}-{id}.eml");
        Hosting.DataDirectory.CreateOwnerOnly(directory);
        var temporary = Path.Combine(directory, "." + fileName + ".tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            await using (var file = new FileStream(temporary, options))
            {
                await write(file, cancellationToken);
                await file.FlushAsync(cancellationToken);
            }

            File.Move(temporary, Path.Combine(directory, fileName));
        }
        finally
        {
            File.Delete(temporary);
        }

        return fileName;
    }

    /// <summary>A fresh random id for a file name (and, for notification mail, its Message-ID).</summary>
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
}
