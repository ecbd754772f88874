// The lock that serialises veil processes over one session or chat store, on a real file system: a second holder
// waits, gives up with a TimeoutException at its deadline, and gets the lock once the first lets go.
using System.Diagnostics;

namespace Veil.Client.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes
public sealed class PrivateFileLockTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("veil-lock-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Held_SecondAcquireTimesOut_ThenSucceedsAfterRelease_File0600()
    {
        var path = Path.Combine(_directory, "nested", "session.lock");
        var first = PrivateFileLock.Acquire(path, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(10));

        var clock = Stopwatch.StartNew();
        var refused = Assert.Throws<TimeoutException>(() => PrivateFileLock.Acquire(path, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(20)));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(200), $"gave up after {clock.ElapsedMilliseconds} ms");
        Assert.IsAssignableFrom<IOException>(refused.InnerException);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        first.Dispose();
        using var second = PrivateFileLock.Acquire(path, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(20));
        Assert.True(second.CanWrite);
    }
}
