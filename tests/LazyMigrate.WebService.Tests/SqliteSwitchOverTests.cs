namespace LazyMigrate.WebService.Tests;

/// <summary>
/// The switch-over on the service's default databases, two SQLite files: v2 writes reach v1 at once with Sync and
/// within the dispatcher's lag with Async; v1 writes reach v2 within the lag (the legacy code records them).
/// </summary>
[Collection(WebServiceCollection.Name)]
public sealed class SqliteSwitchOverTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("sync")]
    [InlineData("async")]
    public Task AFleetSwitchingOneByOne_SeesEveryWriteThroughBothApis_AndTheStoresAgree(string writeBack) =>
        SwitchOverAssert.HeldAsync(
            output,
            $"SQLite, {writeBack} write-back",
            new FleetSettings(
                V2WritesAtOnceOnV1: writeBack == "sync",
                V1WritesAtOnceOnV2: false,
                Environment.TickCount
            ),
            "--write-back",
            writeBack
        );
}
