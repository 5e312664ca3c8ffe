using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.WebService.Tests;

/// <summary>
/// The switch-over with the legacy table, the new store and the outbox in one PostgreSQL database (a fresh one per
/// run, on a throwaway server): v1 writes reach v2 at once, since the capture trigger marks the new store's row stale
/// in the legacy write's transaction; v2 writes reach v1 at once with Sync, within the dispatcher's lag with Async.
/// </summary>
[Collection(WebServiceCollection.Name)]
public sealed class PostgresSwitchOverTests(PostgresServer postgres, ITestOutputHelper output)
    : IClassFixture<PostgresServer>
{
    [Theory]
    [InlineData("sync")]
    [InlineData("async")]
    public async Task AFleetSwitchingOneByOne_SeesEveryWriteThroughBothApis_AndTheStoresAgree(string writeBack) =>
        await SwitchOverAssert.HeldAsync(
            output,
            $"PostgreSQL, {writeBack} write-back",
            new FleetSettings(V2WritesAtOnceOnV1: writeBack == "sync", V1WritesAtOnceOnV2: true, Environment.TickCount),
            "--write-back",
            writeBack,
            "--postgres",
            await postgres.CreateDatabaseAsync()
        );
}
