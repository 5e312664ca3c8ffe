using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.QuickStart.Tests;

/// <summary>
/// The quick start on PostgreSQL (<c>--postgres</c>: the legacy table read through <c>PostgreSqlTableOldStore</c>, the
/// new database through EF Core), each run in a fresh database, which the tests then look into with their own SQL.
/// </summary>
public sealed class PostgresQuickStartTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    private const int Records = 2_000;
    private const string Schema = "lazymigrate_quickstart";

    [Fact]
    public async Task Run_EveryClaimHolds_AndLeavesEveryLegacyRowInTheNewDatabase()
    {
        string connectionString = await postgres.CreateDatabaseAsync();

        QuickStartRun run = await QuickStartRun.RunAsync("--records", $"{Records}", "--postgres", connectionString);

        QuickStartAssert.EveryClaimHeld(run, claims: 41);
        QuickStartAssert.EveryPathAccountedFor(run, legacyRows: Records + 1);
        await using NpgsqlDataSource database = NpgsqlDataSource.Create(connectionString);
        Assert.Equal(Records + 1, await CountAsync(database, "legacy_customers"));
        Assert.Equal(Records + 1, await CountAsync(database, "customers"));
        Assert.Equal(0, await CountAsync(database, "LazyMigrateBackfillQuarantine"));
        await using NpgsqlCommand checkpoint = database.CreateCommand(
            $"SELECT \"IsComplete\", \"Migrated\", \"LeaseOwner\" FROM {Schema}.\"LazyMigrateBackfillCheckpoints\""
        );
        await using NpgsqlDataReader row = await checkpoint.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.True(row.GetBoolean(0));
        // Every legacy row but those already there and the one quarantined (the retry moved it, outside the run).
        Assert.Equal(Records + 1 - QuickStartAssert.Number(run, "already present") - 1, row.GetInt64(1));
        Assert.True(row.IsDBNull(2)); // the lease given up at the end
        Assert.False(await row.ReadAsync());
    }

    [Fact]
    public async Task DryRun_LeavesEveryTableButTheLegacyOneEmpty()
    {
        string connectionString = await postgres.CreateDatabaseAsync();

        QuickStartRun run = await QuickStartRun.RunAsync(
            "--records",
            $"{Records}",
            "--postgres",
            connectionString,
            "--dry-run"
        );

        QuickStartAssert.EveryClaimHeld(run, claims: 5);
        await using NpgsqlDataSource database = NpgsqlDataSource.Create(connectionString);
        var tables = new List<string>();
        await using (
            NpgsqlCommand list = database.CreateCommand(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name"
            )
        )
        {
            list.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Schema });
            await using NpgsqlDataReader names = await list.ExecuteReaderAsync();
            while (await names.ReadAsync())
            {
                tables.Add(names.GetString(0));
            }
        }

        Assert.Contains("LazyMigrateBackfillCheckpoints", tables);
        Assert.Contains("customers", tables);
        foreach (string table in tables)
        {
            Assert.Equal(table == "legacy_customers" ? Records : 0, await CountAsync(database, table));
        }
    }

    /// <summary>Counts a table of the quick start's schema; the name comes from the catalog or this class.</summary>
    private static async Task<long> CountAsync(NpgsqlDataSource database, string table)
    {
        await using NpgsqlCommand count = database.CreateCommand(
            $"SELECT count(*) FROM {Schema}.\"{table.Replace("\"", "\"\"", StringComparison.Ordinal)}\""
        );
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
