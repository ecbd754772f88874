using System.Runtime.InteropServices;
using System.Text;

namespace Veil.Mail.Spool;

/// <summary>
/// fsync of a directory, so a rename into it survives a power cut. .NET has no API for this
/// (<c>File.OpenHandle</c> refuses directories), so on Linux and macOS it calls libc
/// <c>open(O_RDONLY|O_DIRECTORY)</c> + <c>fsync</c> directly. On Windows NTFS journals the rename
/// itself and there is no equivalent call, so it does nothing.
/// </summary>
internal static class DirectorySync
{
    private const int ORdOnly = 0;

    public static void Fsync(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        int flags = ORdOnly | (OperatingSystem.IsLinux() ? 0x10000 : 0x100000); // O_DIRECTORY
        byte[] path = NativePath(directory);
        int fd = Open(path, flags);
        if (fd < 0) throw new IOException($"Cannot open the spool directory for fsync (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"fsync of the spool directory failed (errno {Marshal.GetLastPInvokeError()}).");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>
    /// Renames a file, replacing any file of that name: one <c>rename(2)</c> on Unix (File.Move adds status
    /// calls around it).
    /// </summary>
    /// <exception cref="FileNotFoundException">The source does not exist.</exception>
    public static void Rename(string from, string to)
    {
        if (OperatingSystem.IsWindows())
        {
            File.Move(from, to, overwrite: true);
            return;
        }
        if (RenameFile(NativePath(from), NativePath(to)) == 0) return;
        int errno = Marshal.GetLastPInvokeError();
        if (errno == 2) throw new FileNotFoundException("The file to rename does not exist.", from); // ENOENT
        throw new IOException($"rename in the spool failed (errno {errno}).");
    }

    /// <summary>A path as libc takes it: UTF-8, NUL-terminated.</summary>
    private static byte[] NativePath(string path) => Encoding.UTF8.GetBytes(path + "\0");

    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int RenameFile(byte[] from, byte[] to);

    // DllImport rather than LibraryImport: the generator needs unsafe blocks, which this project does not allow.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open(byte[] path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Close(int fd);
}
