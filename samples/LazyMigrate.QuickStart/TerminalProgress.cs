using System.Globalization;
using LazyMigrate.Backfill;
using Spectre.Console;
using static LazyMigrate.QuickStart.Story;

namespace LazyMigrate.QuickStart;

/// <summary>
/// Shows a backfill's or a dry run's progress as it goes: a Spectre.Console bar on a terminal, and where the output is
/// redirected (a CI log, a test reading it) a plain line at each quarter of the way, which a bar would fill with
/// escape codes.
/// </summary>
public static class TerminalProgress
{
    private static volatile bool _live;

    /// <summary>Gets whether a progress bar is on the terminal now (other output would tear it).</summary>
    public static bool IsLive => _live;

    /// <summary>Runs <paramref name="work"/> with a progress display titled <paramref name="title"/>.</summary>
    public static async Task<T> RunAsync<T>(string title, Func<IProgress<BackfillProgress>, ValueTask<T>> work)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await work(new QuarterLines(title));
        }

        return await AnsiConsole
            .Progress()
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new RemainingTimeColumn(),
                new SpinnerColumn()
            )
            .StartAsync(async context =>
            {
                ProgressTask bar = context.AddTask(title);
                _live = true;
                try
                {
                    T result = await work(new Reported(progress => Update(bar, title, progress)));
                    bar.Value = bar.MaxValue;
                    return result;
                }
                finally
                {
                    _live = false;
                }
            });
    }

    /// <summary>
    /// The line both displays print: what was scanned, of how many, how fast, and the estimated time left.
    /// </summary>
    public static string Describe(BackfillProgress progress)
    {
        string total = progress.Remaining is { } remaining ? $" of {N(remaining)}" : "";
        string left = progress.EstimatedTimeLeft is { } estimate
            ? $", about {estimate.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s left"
            : "";
        return $"{N(progress.Counts.Scanned)}{total} scanned, {N((long)progress.EntitiesPerSecond)}/s{left}";
    }

    private static void Update(ProgressTask bar, string title, BackfillProgress progress)
    {
        // The entities left when the run started (the old store counts them), else what is known so far.
        bar.MaxValue = Math.Max(1, progress.Remaining ?? progress.Counts.Scanned);
        bar.Value = progress.Counts.Scanned;
        bar.Description = $"{title}: {Markup.Escape(Describe(progress))}";
    }

    /// <summary>
    /// Reports synchronously, on the backfill's own thread: <see cref="Progress{T}"/> would post to the thread pool,
    /// and the last report could land after the run returned.
    /// </summary>
    private sealed class Reported(Action<BackfillProgress> report) : IProgress<BackfillProgress>
    {
        private readonly Lock _gate = new();

        public void Report(BackfillProgress value)
        {
            lock (_gate)
            {
                report(value);
            }
        }
    }

    /// <summary>One line at each quarter of the way crossed, for output that is not a terminal.</summary>
    private sealed class QuarterLines(string title) : IProgress<BackfillProgress>
    {
        private readonly Lock _gate = new();
        private int _quartersShown;

        public void Report(BackfillProgress value)
        {
            if (value.Remaining is not > 0)
            {
                return;
            }

            int quarters = (int)Math.Min(4, 4 * value.Counts.Scanned / value.Remaining.Value);
            lock (_gate)
            {
                if (quarters > _quartersShown)
                {
                    _quartersShown = quarters;
                    Say($"{title}: {Describe(value)}");
                }
            }
        }
    }
}
