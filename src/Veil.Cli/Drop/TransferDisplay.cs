// Progress for `veil drop send|get`: a Spectre.Console bar with rate and ETA on a terminal, a plain line every 10 %
// on stderr when stdout is not a terminal (logs, pipes), JSON progress events on stdout with --json.
using Spectre.Console;
using Veil.Client.Drop;

namespace Veil.Cli.Drop;

internal sealed class TransferDisplay(bool json, string verb)
{
    public async Task<T> RunAsync<T>(long total, Func<IProgress<DropProgress>, Task<T>> work)
    {
        if (!json && DropCliEnvironment.Interactive)
        {
            T result = default!;
            await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(
                    new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                    new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    ProgressTask task = context.AddTask(verb, maxValue: Math.Max(1, total));
                    result = await work(new Reporter(p => task.Value = p.Done)).ConfigureAwait(false);
                    task.Value = task.MaxValue;
                }).ConfigureAwait(false);
            return result;
        }

        int lastDecile = -1;
        var lockObject = new Lock();
        return await work(new Reporter(p =>
        {
            int decile = p.Total <= 0 ? 10 : (int)(p.Done * 10 / p.Total);
            lock (lockObject)
            {
                if (decile <= lastDecile)
                {
                    return;
                }

                lastDecile = decile;
            }

            if (json)
            {
                Console.Out.WriteLine($"{{\"event\":\"progress\",\"done\":{p.Done},\"total\":{p.Total}}}");
                Console.Out.Flush();
            }
            else
            {
                Console.Error.WriteLine($"{verb}: {decile * 10}% ({DropCliEnvironment.FormatBytes(p.Done)} of {DropCliEnvironment.FormatBytes(p.Total)})");
            }
        })).ConfigureAwait(false);
    }

    /// <summary>Reports synchronously, in order (Progress&lt;T&gt; would post to the thread pool and reorder).</summary>
    private sealed class Reporter(Action<DropProgress> report) : IProgress<DropProgress>
    {
        public void Report(DropProgress value) => report(value);
    }
}
