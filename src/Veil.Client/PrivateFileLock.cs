// An exclusive lock between veil processes on one machine: an exclusive open of a 0600 lock file (flock on
// Unix), held until the returned handle is disposed or the process exits.
namespace Veil.Client;

public static class PrivateFileLock
{
    /// <summary>Opens <paramref name="path"/> exclusively, retrying every <paramref name="poll"/> until <paramref name="timeout"/>.</summary>
    /// <exception cref="TimeoutException">Another process held the file for <paramref name="timeout"/>; the inner exception says how.</exception>
    public static FileStream Acquire(string path, TimeSpan timeout, TimeSpan poll)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new FileStream(path, options);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(poll);
            }
            catch (IOException e)
            {
                throw new TimeoutException($"{path} was held by another process for {timeout.TotalSeconds:0} s", e);
            }
        }
    }
}
