using System.Globalization;

namespace LazyMigrate.Benchmarks.Probe;

/// <summary>
/// A snapshot of where this machine's CPU time went (Linux <c>/proc</c>): every core's user, kernel and idle time, and
/// the time of the PostgreSQL server's processes, so that a probe can tell its own process's CPU from the server's and
/// from the kernel's.
/// </summary>
internal readonly record struct MachineCpu(double User, double Kernel, double Idle, double Server)
{
    private const double TicksPerSecond = 100;

    public static MachineCpu Now()
    {
        // cpu  user nice system idle iowait irq softirq steal ...
        string[] total = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        double Field(int i) => double.Parse(total[i], CultureInfo.InvariantCulture) / TicksPerSecond;
        return new MachineCpu(
            Field(1) + Field(2),
            Field(3) + Field(6) + Field(7),
            Field(4) + Field(5),
            ServerSeconds()
        );
    }

    public static MachineCpu operator -(MachineCpu after, MachineCpu before) =>
        new(
            after.User - before.User,
            after.Kernel - before.Kernel,
            after.Idle - before.Idle,
            after.Server - before.Server
        );

    public override string ToString()
    {
        double all = User + Kernel + Idle;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"machine: {User:F2} s user, {Kernel:F2} s kernel, {Idle:F2} s idle ({1 - (Idle / all):P0} busy); "
                + $"PostgreSQL processes {Server:F2} s"
        );
    }

    /// <summary>The user and kernel time of every process named <c>postgres</c>, from /proc/[pid]/stat.</summary>
    private static double ServerSeconds()
    {
        double seconds = 0;
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                string stat = File.ReadAllText(Path.Combine(directory, "stat"));
                int open = stat.IndexOf('(', StringComparison.Ordinal);
                int close = stat.LastIndexOf(')');
                if (open < 0 || close < 0 || stat[(open + 1)..close] != "postgres")
                {
                    continue;
                }

                // After "(comm) ": state is field 3; utime and stime are fields 14 and 15.
                string[] fields = stat[(close + 2)..].Split(' ');
                seconds +=
                    (
                        double.Parse(fields[11], CultureInfo.InvariantCulture)
                        + double.Parse(fields[12], CultureInfo.InvariantCulture)
                    ) / TicksPerSecond;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        return seconds;
    }
}
