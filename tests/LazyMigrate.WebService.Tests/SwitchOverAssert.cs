namespace LazyMigrate.WebService.Tests;

internal static class SwitchOverAssert
{
    /// <summary>
    /// Starts the service with <paramref name="arguments"/>, runs the fleet against it, prints the run's figures (the
    /// lag percentiles among them) and fails with the broken promises, if any, and what the service printed.
    /// </summary>
    public static async Task HeldAsync(
        ITestOutputHelper output,
        string configuration,
        FleetSettings settings,
        params string[] arguments
    )
    {
        await using WebServiceProcess service = await WebServiceProcess.StartAsync(["--records", "1000", .. arguments]);

        FleetReport report = await SwitchOverFleet.RunAsync(service, settings);

        string summary = report.Summary($"{configuration}, seed {settings.Seed}");
        output.WriteLine(summary);
        Console.WriteLine(summary);
        Assert.True(report.V1WritesToMigrated > 0 && report.V2Writes > 0, $"the fleet wrote too little: {summary}");
        Assert.True(
            report.Violations.Count == 0,
            $"{report.Violations.Count} broken promises ({summary}):{Environment.NewLine}"
                + string.Join(Environment.NewLine, report.Violations.Take(25))
                + $"{Environment.NewLine}--- the service printed:{Environment.NewLine}{Tail(service.Output)}"
        );
        // On PostgreSQL the next v2 read syncs a v1 write itself, and the dispatcher then finds nothing to write.
        Assert.True(report.ForwardSyncsHandled > 0, $"no forward sync was handled: {summary}");
    }

    private static string Tail(string text) => text.Length <= 8_000 ? text : text[^8_000..];
}
