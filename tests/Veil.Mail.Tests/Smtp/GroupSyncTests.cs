using Veil.Mail.Spool;

namespace Veil.Mail.Tests.Smtp;

/// <summary>The spool's group commit of syncs (here a directory fsync): every caller is served, whichever thread it calls from.</summary>
public sealed class GroupSyncTests
{
    [Fact]
    public async Task SyncAsync_OnASyncThread_FsyncsBeforeReturning()
    {
        var sync = DirectorySyncOf(SmtpTestHost.NewTempDir());
        bool completedOnReturn = false;

        await SyncWorkers.RunAsync(() => completedOnReturn = sync.SyncAsync(onSyncThread: true).IsCompletedSuccessfully);

        Assert.True(completedOnReturn);
    }

    [Fact]
    public async Task SyncAsync_ClaimingASyncThreadFromThePool_StillHandsTheFsyncToASyncWorker()
    {
        var sync = DirectorySyncOf(SmtpTestHost.NewTempDir());

        await sync.SyncAsync(onSyncThread: true).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(SyncWorkers.IsSyncThread);
    }

    [Fact]
    public async Task SyncAsync_ManyCallersFromBothKindsOfThread_AllComplete()
    {
        var sync = DirectorySyncOf(SmtpTestHost.NewTempDir());
        var waits = new System.Collections.Concurrent.ConcurrentBag<Task>();
        // As a commit does: the sync thread takes the task and does not block on it.
        var calls = Enumerable.Range(0, 200).Select(i => i % 2 == 0
            ? SyncWorkers.RunAsync(() => waits.Add(sync.SyncAsync(onSyncThread: true)))
            : Task.Run(() => waits.Add(sync.SyncAsync())));
        await Task.WhenAll(calls);

        Assert.Equal(200, waits.Count);
        await Task.WhenAll(waits).WaitAsync(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task SyncAsync_DirectoryGone_FailsTheWaiters()
    {
        var dir = SmtpTestHost.NewTempDir();
        var sync = DirectorySyncOf(dir);
        Directory.Delete(dir);

        await Assert.ThrowsAsync<IOException>(() => sync.SyncAsync());
        Task? inline = null;
        await SyncWorkers.RunAsync(() => inline = sync.SyncAsync(onSyncThread: true));
        await Assert.ThrowsAsync<IOException>(() => inline!);
    }

    private static GroupSync DirectorySyncOf(string directory) => new(() => DirectorySync.Fsync(directory));
}
