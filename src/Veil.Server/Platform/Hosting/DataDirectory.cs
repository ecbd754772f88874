namespace Veil.Server.Platform.Hosting;

/// <summary>Prepares the data directory before anything writes to it.</summary>
internal static class DataDirectory
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OthersWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    /// <summary>
    /// Creates the directory if missing, proves it is readable and writable with a probe file, and makes it
    /// the owner's alone: the directory (and every directory in it) 0700, every file 0600, whatever existed before
    /// (an operator's <c>mkdir</c> leaves 0755; SQLite creates <c>veil.db</c> and its <c>-wal</c>/<c>-shm</c> with the
    /// umask, 0644). A directory other users can write is refused: someone else could already have planted or swapped
    /// a database, keyring or spool file in it, and tightening the mode now would not undo that.
    /// Returns the absolute path, or null with a one-line problem naming the setting.
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
                if (Directory.Exists(path) && (File.GetUnixFileMode(path) & OthersWrite) != 0)
                {
                    problems.Add($"Veil:DataDirectory (env Veil__DataDirectory): {path} is writable by other users (mode {Octal(File.GetUnixFileMode(path))}); "
                        + "use a directory only Veil's user can write (chmod 700), after checking nobody else put files in it");
                    return null;
                }

                Directory.CreateDirectory(path, OwnerOnly);
                Tighten(path);
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

    /// <summary>
    /// Makes the SQLite database <paramref name="path"/> and its <c>-wal</c> and <c>-shm</c> files mode 0600. SQLite creates
    /// the database with the process umask (0644), and later <c>-wal</c>/<c>-shm</c> files with the database file's mode,
    /// so tightening the database once after it exists keeps the ones it creates later owner-only too. (Creating the file
    /// empty beforehand does not work: EF then opens it read-only to test whether it exists.)
    /// </summary>
    public static void RestrictSqliteFiles(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (var file in new[] { path, path + "-wal", path + "-shm", path + "-journal" })
        {
            if (File.Exists(file) && (File.GetUnixFileMode(file) & ~OwnerOnlyFile) != 0)
            {
                File.SetUnixFileMode(file, File.GetUnixFileMode(file) & OwnerOnlyFile);
            }
        }
    }

    // Symbolic links are left alone: chmod would follow them out of the directory. So is the development keyring:
    // one that others could read may have leaked, and its loader refuses it (tightening it here would hide that).
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void Tighten(string directory)
    {
        File.SetUnixFileMode(directory, OwnerOnly);
        var keyring = Path.Combine(directory, Keys.DevelopmentKeyring.FileName);
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false }))
        {
            if (entry.LinkTarget is not null || entry.FullName == keyring)
            {
                continue;
            }

            var wanted = entry is DirectoryInfo ? OwnerOnly : OwnerOnlyFile;
            if ((entry.UnixFileMode & ~wanted) != 0)
            {
                entry.UnixFileMode &= wanted;
            }
        }
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0xFFF, 8);

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    /// <summary>
    /// Creates <paramref name="path"/> and every missing parent 0700: <c>Directory.CreateDirectory(path, mode)</c> gives the
    /// mode to the last directory only, and a parent made 0755 would let other users list blob names and sizes
    /// (found by <c>veil admin doctor</c>).
    /// </summary>
    public static void CreateOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        var missing = new Stack<string>();
        for (var current = Path.GetFullPath(path); !Directory.Exists(current); current = Path.GetDirectoryName(current)!)
        {
            missing.Push(current);
        }

        while (missing.TryPop(out var directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
