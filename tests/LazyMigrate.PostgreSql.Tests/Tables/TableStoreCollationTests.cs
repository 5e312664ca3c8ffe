using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Tables;

/// <summary>
/// A text key scans in the column's own collation, so that the column's index serves the scan: here a linguistic ICU
/// collation, whose order differs from the ordinal one (the test server's databases default to C).
/// </summary>
[Collection("postgres")]
public sealed class TableStoreCollationTests(PostgresServer server)
{
    private static readonly string[] MixedIds = ["b", "B", "a1", "a", "Z", "10", "9", "a-b", "a_b", "é", "e"];

    [Fact]
    public async Task Scan_OfATextKeyInALinguisticCollation_GoesInThatOrder_ThroughTheKeysIndex()
    {
        string table = TestDatabase.UniqueTable("icu");
        await server.DataSource.ExecuteAsync(
            $"CREATE TABLE \"{table}\" (id text COLLATE \"en-US-x-icu\" PRIMARY KEY, full_name text NOT NULL, "
                + "version integer NOT NULL)"
        );
        var options = LegacyTables.CustomerOptions(table, PostgreSqlKeyType.Text);
        options.ScanPageSize = 2;
        var store = new PostgreSqlTableOldStore<LegacyCustomer>(server.DataSource, options);
        foreach (string id in MixedIds)
        {
            await store.UpsertAsync(id, LegacyCustomer.Create(id, 1));
        }

        string[] linguistic = (
            await server.DataSource.ScalarAsync<string[]>(
                "SELECT array_agg(x ORDER BY x COLLATE \"en-US-x-icu\") FROM unnest($1::text[]) AS x",
                (object)MixedIds
            )
        )!;
        using var recorder = new StatementRecorder();
        List<string> fromACursor;
        using (recorder.Step("scan"))
        {
            fromACursor = await store.ScanAsync(linguistic[4]).Select(e => e.Key).ToListAsync();
        }

        string plan = await server.DataSource.ExplainAsync(
            recorder.Of("scan")[^1],
            new NpgsqlParameter<string> { TypedValue = linguistic[4] },
            new NpgsqlParameter<int> { TypedValue = 2 }
        );

        Assert.NotEqual(MixedIds.Order(StringComparer.Ordinal), linguistic);
        Assert.Equal(linguistic, await store.ScanAsync(null).Select(e => e.Key).ToListAsync());
        Assert.Equal(linguistic[5..], fromACursor);
        Assert.Contains($"Index Scan using {table}_pkey", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Sort", plan, StringComparison.Ordinal);
    }
}
