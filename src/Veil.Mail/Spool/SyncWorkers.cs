using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Veil.Mail.Spool;

/// <summary>
/// A fixed set of dedicated threads for the spool's blocking syncs (fdatasync of a message file, fsync of the
/// directory). An fsync blocks its thread for as long as the disk takes; on thread-pool threads, twenty sessions
/// syncing at once starve the pool, which then injects threads one by one (hundreds under load) while sessions wait
/// to be scheduled. Here the blocking calls never touch the pool: sessions await a task that a sync thread completes.
/// Many threads run syncs concurrently, so the file system can merge them into shared journal commits.
/// </summary>
internal static class SyncWorkers
{
    // A plain monitor queue: an idle sync thread sleeps in Monitor.Wait and is woken by exactly one Pulse. (A
    // BlockingCollection/SemaphoreSlim spins and yields before sleeping, which with dozens of idle threads on two
    // cores cost ~60 sched_yield calls per message.)
    private static readonly Queue<(Action Work, TaskCompletionSource Done)> Pending = new();
    private static readonly object Gate = new();
    private static readonly Lazy<bool> Started = new(Start);

    [ThreadStatic]
    private static bool t_isSyncThread;

    /// <summary>True on a sync thread (where blocking for a sync is what the thread is for).</summary>
    public static bool IsSyncThread => t_isSyncThread;

    /// <summary>
    /// Runs <paramref name="work"/> on a sync thread; the task carries its exception, if any. With
    /// <paramref name="continueOnSyncThread"/>, the awaiting code resumes on the sync thread itself (one thread
    /// handoff less per message); use it only where that code does not block for long.
    /// </summary>
    public static Task RunAsync(Action work, bool continueOnSyncThread = false)
    {
        _ = Started.Value;
        var done = new TaskCompletionSource(continueOnSyncThread ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);
        lock (Gate)
        {
            Pending.Enqueue((work, done));
            Monitor.Pulse(Gate);
        }

        return done.Task;
    }

    /// <summary>Durably writes a file's data and the metadata needed to read it back (fdatasync on Linux, fsync elsewhere).</summary>
    public static void DataSync(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
        {
            RandomAccess.FlushToDisk(handle);
            return;
        }

        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (FdataSync((int)handle.DangerousGetHandle()) != 0)
            {
                throw new IOException($"fdatasync of a spool file failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static bool Start()
    {
        var count = Math.Clamp(Environment.ProcessorCount * 16, 32, 64);
        for (var i = 0; i < count; i++)
        {
            new Thread(Loop) { IsBackground = true, Name = "Veil spool sync" }.Start();
        }

        return true;
    }

    private static void Loop()
    {
        t_isSyncThread = true;
        while (true)
        {
            Action work;
            TaskCompletionSource done;
            lock (Gate)
            {
                while (Pending.Count == 0)
                {
                    Monitor.Wait(Gate);
                }

                (work, done) = Pending.Dequeue();
            }

            try
            {
                work();
                done.SetResult();
            }
#pragma warning disable CA1031 // the waiting session gets the failure, whatever it is
            catch (Exception e)
#pragma warning restore CA1031
            {
                done.SetException(e);
            }
        }
    }

    [DllImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int FdataSync(int fd);
}
