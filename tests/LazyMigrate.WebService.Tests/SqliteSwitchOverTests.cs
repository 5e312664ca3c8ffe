namespace LazyMigrate.WebService.Tests;

/// <summary>
/// The switch-over on the service's default databases, two SQLite files: v2 writes reach v1 at once with Sync and
/// within the dispatcher's lag with Async; v1 writes reach v2 within the lag (the legacy code records them).
/// </summary>
public sealed class SqliteSwitchOverTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("sync")]
    [InlineData("async")]
    public async Task AFleetSwitchingOneByOne_SeesEveryWriteThroughBothApis_AndTheStoresAgree(string writeBack)
    {
        await using WebServiceProcess service = await WebServiceProcess.StartAsync(
            "--write-back",
            writeBack,
            "--records",
            "1000"
        );
        var settings = new FleetSettings(
            V2WritesAtOnceOnV1: writeBack == "sync",
            V1WritesAtOnceOnV2: false,
            Seed: Environment.TickCount
        );

        FleetReport report = await SwitchOverFleet.RunAsync(service, settings);

        SwitchOverAssert.Held(output, $"SQLite, {writeBack} write-back, seed {settings.Seed}", report, service);
    }
}
