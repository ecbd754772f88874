// The outbox directory's one way to write a message file, shared by notification mail (FileMailOutbox) and forwarded
// copies in development (DevelopmentOutboxTransport): a timestamped .eml name, written under a temporary dot-name and
// renamed, so a reader never sees half a message; mode 0600 because the mail is in clear.
using System.Globalization;
using System.Security.Cryptography;

namespace Veil.Server.Platform.Outbox;

internal static class OutboxFiles
{
    /// <summary>
    /// Writes one message file atomically and returns its name (not its path: the log names only the file). With
    /// <c>replace</c> (the name of a file written before under the same caller-given id) that file is replaced instead.
    /// </summary>
    public static async Task<string> WriteAsync(string directory, DateTimeOffset now, string id, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken, string? replace = null)
    {
        var fileName = replace ?? string.Create(CultureInfo.InvariantCulture, $"{now:yyyyMMdd'T'HHmmss'.'fff'Z'}-{id}.eml");
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

            File.Move(temporary, Path.Combine(directory, fileName), overwrite: replace is not null);
        }
        finally
        {
            File.Delete(temporary);
        }

        return fileName;
    }

    /// <summary>The name of the message file written under <paramref name="id"/>, or null when there is none.</summary>
    public static string? Find(string directory, string id) =>
        System.IO.Directory.Exists(directory) ? System.IO.Directory.EnumerateFiles(directory, "*-" + id + ".eml").Select(Path.GetFileName).FirstOrDefault() : null;

    /// <summary><paramref name="id"/> when it is a valid caller-given id ([a-z0-9-], 1 to 64 characters: safe in a file name and a Message-ID).</summary>
    public static string CheckId(string id) =>
        id.Length is > 0 and <= 64 && id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
            ? id
            : throw new ArgumentException("An outbox id is 1 to 64 characters of a-z, 0-9 and '-'.", nameof(id));

    /// <summary>A fresh random id for a file name (and, for notification mail, its Message-ID).</summary>
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
}
