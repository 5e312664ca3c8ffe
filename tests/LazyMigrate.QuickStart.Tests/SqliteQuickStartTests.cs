using System.Globalization;
using System.Text.RegularExpressions;

namespace LazyMigrate.QuickStart.Tests;

/// <summary>
/// The quick start on its embedded default (two SQLite files, removed when it ends), run as a user runs it: every claim
/// it checks holds, its backfill moves what no read moved, and its summary accounts for every legacy row by one path.
/// </summary>
public sealed partial class SqliteQuickStartTests
{
    private const int Records = 1_000;

    [Fact]
    public async Task Run_EveryClaimHolds_AndTheBackfillMovesTheRest()
    {
        QuickStartRun run = await QuickStartRun.RunAsync("--records", $"{Records}");

        QuickStartAssert.EveryClaimHeld(run, claims: 41);
        QuickStartAssert.EveryPathAccountedFor(run, legacyRows: Records + 1);

        // Output that is not a terminal gets plain progress lines, the last at the whole table.
        Assert.Contains(
            run.Lines,
            line => line.StartsWith("backfill: 1,001 of 1,001 scanned", StringComparison.Ordinal)
        );
    }

    [Fact]
    public async Task DryRun_MapsEveryRecord_NamesTheOneItCannot_AndWritesNothing()
    {
        QuickStartRun run = await QuickStartRun.RunAsync("--records", $"{Records}", "--dry-run");

        QuickStartAssert.EveryClaimHeld(run, claims: 5);
        Assert.StartsWith($"scanned 1,000, mapped 999, failed 1, ", run.Line("scanned "));
        Assert.StartsWith(
            "failed  999: MigrationMappingException: Migration 'LegacyCustomer->Customer' could not map entity '999'",
            run.Line("failed  ")
        );
        Assert.DoesNotContain(run.Lines, line => line.StartsWith("Summary", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--records", "9")]
    [InlineData("--records")]
    [InlineData("--dry-run", "--bogus")]
    public async Task BadArguments_ExitWithTheUsage(params string[] arguments)
    {
        QuickStartRun run = await QuickStartRun.RunAsync(arguments);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("usage: LazyMigrate.QuickStart", run.Output, StringComparison.Ordinal);
    }
}

/// <summary>What every run of the quick start must print, whatever its databases.</summary>
internal static partial class QuickStartAssert
{
    /// <summary>It exited 0, printed no failed claim, and checked the claims it should have.</summary>
    public static void EveryClaimHeld(QuickStartRun run, int claims)
    {
        Assert.True(run.ExitCode == 0, $"The quick start exited with {run.ExitCode}:\n{run.Output}");
        Assert.DoesNotContain(run.Lines, line => line.StartsWith("FAIL", StringComparison.Ordinal));
        Assert.Equal(claims, run.Lines.Count(line => line.StartsWith("ok ", StringComparison.Ordinal)));
        Assert.StartsWith($"{claims} of {claims} checks held", run.Line($"{claims} of "));
    }

    /// <summary>
    /// The summary's paths add up, read from its lines rather than from its own check: on read, by the backfill, one
    /// customer created through the new API, less the one deleted (it was migrated on read first).
    /// </summary>
    public static void EveryPathAccountedFor(QuickStartRun run, int legacyRows)
    {
        long onRead = Number(run, "migrated on read");
        long byBackfill = Number(run, "migrated by backfill");
        Assert.Equal(legacyRows, Number(run, "legacy rows"));
        Assert.Equal(3, Number(run, "saved (new API)"));
        Assert.Equal(1, Number(run, "deleted (new API)"));
        Assert.Equal(1, Number(run, "quarantined"));
        Assert.Equal(legacyRows, onRead + byBackfill + 1 - 1);
        Assert.Equal(onRead, Number(run, "already present"));
    }

    /// <summary>The number after a label of the summary.</summary>
    public static long Number(QuickStartRun run, string label)
    {
        Match match = SummaryNumber().Match(run.Line(label + " ")[label.Length..]);
        Assert.True(match.Success, $"No number after '{label}':\n{run.Output}");
        return long.Parse(match.Groups["n"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^\s+(?<n>[\d,]+)")]
    private static partial Regex SummaryNumber();
}
