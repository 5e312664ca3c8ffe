namespace LazyMigrate.WebService.Tests;

internal static class SwitchOverAssert
{
    /// <summary>
    /// Prints the run's figures (the lag percentiles among them) and fails with the broken promises, if any, and what
    /// the service printed.
    /// </summary>
    public static void Held(
        ITestOutputHelper output,
        string configuration,
        FleetReport report,
        WebServiceProcess service
    )
    {
        string summary = report.Summary(configuration);
        output.WriteLine(summary);
        Console.WriteLine(summary);
        Assert.True(report.V1WritesToMigrated > 0 && report.V2Writes > 0, $"the fleet wrote too little: {summary}");
        Assert.True(report.ForwardSyncsApplied > 0, $"no forward sync was applied: {summary}");
        Assert.True(
            report.Violations.Count == 0,
            $"{report.Violations.Count} broken promises ({summary}):{Environment.NewLine}"
                + string.Join(Environment.NewLine, report.Violations.Take(25))
                + $"{Environment.NewLine}--- the service printed:{Environment.NewLine}{Tail(service.Output)}"
        );
    }

    private static string Tail(string text) => text.Length <= 8_000 ? text : text[^8_000..];
}
