using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>
/// The throwaway PostgreSQL server runs as its options say: the benchmarks that compare capture designs rely on it
/// (docs/benchmarks.md).
/// </summary>
public sealed class ServerSettingsTests
{
    [Fact]
    public async Task PostgresServer_WithLogicalDecodingAndSettings_RunsWithThemAfterItsOwn()
    {
        var server = new PostgresServer { LogicalDecoding = true, Settings = ["synchronous_commit=on"] };
        try
        {
            await server.InitializeAsync();

            Assert.Equal("logical", await ShowAsync(server, "wal_level"));
            // The tests' server turns synchronous commit off; a setting given is applied after, and wins.
            Assert.Equal("on", await ShowAsync(server, "synchronous_commit"));
            Assert.Equal("off", await ShowAsync(server, "fsync"));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task<string> ShowAsync(PostgresServer server, string setting)
    {
        await using NpgsqlCommand show = server.DataSource.CreateCommand($"SHOW {setting}");
        return (string)(await show.ExecuteScalarAsync())!;
    }
}
