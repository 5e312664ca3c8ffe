using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// The scan is in ordinal order whatever the database's default collation, because the id column and the scan use
/// "C". The test server's databases default to C, so this runs in one whose default is ICU en-US.
/// </summary>
[Collection("postgres")]
public sealed class CollationTests(PostgresServer server) : IAsyncLifetime
{
    private static readonly string[] MixedIds = ["b", "B", "a1", "a", "Z", "10", "9", "a-b", "a_b", "é", "e"];
    private NpgsqlDataSource _linguistic = null!;

    public async Task InitializeAsync()
    {
        string database = $"lazymigrate_icu_{Guid.NewGuid():N}";
        await server.DataSource.ExecuteAsync(
            $"CREATE DATABASE \"{database}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'"
        );
        _linguistic = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = database }.ConnectionString
        );
    }

    public async Task DisposeAsync() => await _linguistic.DisposeAsync();

    [Fact]
    public async Task Scan_InALinguisticDatabase_IsStillInOrdinalOrder_AcrossPagesAndFromACursor()
    {
        var store = new PostgreSqlOldStore<LegacyCustomer>(
            _linguistic,
            TestDatabase.Options(configure: o => o.ScanPageSize = 2)
        );
        foreach (string id in MixedIds)
        {
            await store.UpsertAsync(id, LegacyCustomer.Create(id, 1));
        }

        string[] ordinal = MixedIds.Order(StringComparer.Ordinal).ToArray();
        string[] databaseDefault = (
            await _linguistic.ScalarAsync<string[]>(
                "SELECT array_agg(x ORDER BY x) FROM unnest($1::text[]) AS x",
                (object)MixedIds
            )
        )!;

        Assert.NotEqual(ordinal, databaseDefault);
        Assert.Equal(ordinal, await store.ScanAsync(null).Select(e => e.Key).ToListAsync());
        Assert.Equal(ordinal[5..], await store.ScanAsync(ordinal[4]).Select(e => e.Key).ToListAsync());
    }
}
