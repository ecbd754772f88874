namespace Veil.Server.Platform.Hosting;

/// <summary>Prepares the data directory before anything writes to it.</summary>
internal static class DataDirectory
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Creates the directory if missing (mode 0700: it holds the database and, in development, the
    /// keyring) and proves it is readable and writable with a probe file. Returns the absolute path,
    /// or null with a one-line problem naming the setting.
    /// </summary>
    public static string? Prepare(string configured, List<string> problems)
    {
        string path;
        try
        {
            path = Path.GetFullPath(configured);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            problems.Add($"Veil:DataDirectory (env Veil__DataDirectory): not a valid path ({e.GetType().Name})");
            return null;
        }

        try
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(path);
            }
            else
            {
                Directory.CreateDirectory(path, OwnerOnly);
            }

            _ = Directory.EnumerateFileSystemEntries(path).Take(1).Count();
            var probe = Path.Combine(path, $".probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }

            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"Veil:DataDirectory (env Veil__DataDirectory): cannot read and write {path} ({OneLine(e.Message)})");
            return null;
        }
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
