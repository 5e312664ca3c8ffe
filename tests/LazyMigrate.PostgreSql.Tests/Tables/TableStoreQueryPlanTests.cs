using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Tables;

/// <summary>
/// The point read, the batched read, a scan page and a new store's lock reading the table along compare the key as
/// a parameter of its own type, so the primary key's index serves each of them: no cast of the column, no sequential
/// scan, for every key type.
/// </summary>
/// <remarks>
/// Each statement is the one the store sent (recorded from Npgsql), explained with the store's own parameters in a
/// session with <c>enable_seqscan = off</c>, after <c>ANALYZE</c> of 2,000 rows. Turning sequential scans off makes the
/// plan show whether the index <em>can</em> serve the statement, whatever the planner would prefer for a table this
/// small; a cast of the key column (<c>id::text = $1</c>) makes the index unusable, and the plan then still shows a
/// sequential scan, with the cast as its filter.
/// </remarks>
[Collection("postgres")]
public sealed class TableStoreQueryPlanTests(PostgresServer server)
{
    private const int Rows = 2_000;

    [Theory]
    [InlineData(PostgreSqlKeyType.Integer)]
    [InlineData(PostgreSqlKeyType.BigInt)]
    [InlineData(PostgreSqlKeyType.Uuid)]
    [InlineData(PostgreSqlKeyType.Text)]
    [InlineData(PostgreSqlKeyType.Text, "varchar(20)")]
    public async Task PointRead_BatchedRead_AndScanPage_UseThePrimaryKeyIndex(
        PostgreSqlKeyType keyType,
        string? keyColumnType = null
    )
    {
        string table = await AnalyzedTableAsync(keyType, keyColumnType);
        var options = LegacyTables.CustomerOptions(table, keyType);
        options.ScanPageSize = 10;
        var store = new PostgreSqlTableOldStore<LegacyCustomer>(server.DataSource, options);
        string[] ids = [await IdAsync(keyType, 5), await IdAsync(keyType, 6), await IdAsync(keyType, 7)];
        var key = TableKey.For(keyType, store.TableName);

        using var recorder = new StatementRecorder();
        using (recorder.Step("find"))
        {
            Assert.NotNull(await store.FindAsync(ids[0]));
        }

        using (recorder.Step("findMany"))
        {
            Assert.Equal(3, (await store.FindManyAsync(ids)).Count);
        }

        using (recorder.Step("scan"))
        {
            await using var scan = store.ScanAsync(ids[0]).GetAsyncEnumerator();
            Assert.True(await scan.MoveNextAsync());
        }

        string[] plans =
        [
            await server.DataSource.ExplainAsync(recorder.Of("find")[^1], key.Parameter(ids[0])),
            await server.DataSource.ExplainAsync(recorder.Of("findMany")[^1], key.Array(ids)),
            await server.DataSource.ExplainAsync(
                recorder.Of("scan")[^1],
                key.Parameter(ids[0]),
                new NpgsqlParameter<int> { TypedValue = 10 }
            ),
        ];

        foreach (string plan in plans)
        {
            Assert.Contains($"Index Scan using {table}_pkey", plan, StringComparison.Ordinal);
            Assert.DoesNotContain("Seq Scan", plan, StringComparison.Ordinal);
            if (keyColumnType is null)
            {
                // varchar's index is text's: the plan shows (id)::text, a relabelling the index still serves.
                Assert.DoesNotContain("(id)::", plan, StringComparison.Ordinal); // no cast of the key column
            }
        }
    }

    [Theory]
    [InlineData(PostgreSqlKeyType.Integer)]
    [InlineData(PostgreSqlKeyType.BigInt)]
    [InlineData(PostgreSqlKeyType.Uuid)]
    [InlineData(PostgreSqlKeyType.Text)]
    public async Task NewStoreLockReadingTheTableAlong_JoinsItOnThePrimaryKeyIndex(PostgreSqlKeyType keyType)
    {
        string table = await AnalyzedTableAsync(keyType);
        var store = new PostgreSqlTableOldStore<LegacyCustomer>(
            server.DataSource,
            LegacyTables.CustomerOptions(table, keyType)
        );
        var newStore = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());
        string[] ids = [await IdAsync(keyType, 5), await IdAsync(keyType, 6), await IdAsync(keyType, 7)];

        using var recorder = new StatementRecorder();
        using (recorder.Step("lock"))
        {
            await using INewStoreLock<Customer>? held = await newStore.TryLockAndReadOldAsync(
                ids,
                TimeSpan.Zero,
                store
            );
            Assert.Equal(3, Assert.IsAssignableFrom<IOldStoreReadAlong<LegacyCustomer>>(held).OldEntities.Count);
        }

        // The lock's batch (after the new table's creation): BEGIN, the try, then the read joining the legacy table.
        string read = recorder
            .Of("lock")
            .SelectMany(roundTrip => roundTrip.Split(";\n"))
            .Single(statement => statement.Contains(" AS o ON ", StringComparison.Ordinal));
        string plan = await server.DataSource.ExplainAsync(
            read,
            new NpgsqlParameter<string[]> { TypedValue = ids },
            TableKey.For(keyType, store.TableName).ArrayOrNulls(ids)
        );

        Assert.Contains($"Index Scan using {table}_pkey", plan, StringComparison.Ordinal);
        Assert.DoesNotContain($"Seq Scan on {table}", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("(id)::", plan, StringComparison.Ordinal); // no cast of the key column
    }

    /// <summary>A legacy table of <see cref="Rows"/> rows, analyzed.</summary>
    private async Task<string> AnalyzedTableAsync(PostgreSqlKeyType keyType, string? keyColumnType = null)
    {
        string table = await LegacyTables.CreateCustomersAsync(server.DataSource, keyType);
        if (keyColumnType is not null)
        {
            await server.DataSource.ExecuteAsync(
                $"ALTER TABLE \"{table}\" ALTER COLUMN id TYPE {keyColumnType} COLLATE \"C\""
            );
        }

        await server.DataSource.ExecuteAsync(
            $"INSERT INTO \"{table}\" (id, full_name, version) "
                + $"SELECT {KeyOf(keyType, "n")}, 'Name ' || n, n FROM generate_series(1, {Rows}) AS n"
        );
        await server.DataSource.ExecuteAsync($"ANALYZE \"{table}\"");
        return table;
    }

    /// <summary>The SQL of the <paramref name="n"/>th key of each type, in the order of <paramref name="n"/>.</summary>
    private static string KeyOf(PostgreSqlKeyType keyType, string n) =>
        keyType switch
        {
            PostgreSqlKeyType.Uuid => $"('00000000-0000-4000-8000-' || lpad({n}::text, 12, '0'))::uuid",
            PostgreSqlKeyType.Text => $"'id-' || lpad({n}::text, 6, '0')",
            _ => n,
        };

    private async Task<string> IdAsync(PostgreSqlKeyType keyType, int n) =>
        (await server.DataSource.ScalarAsync<string>($"SELECT ({KeyOf(keyType, n.ToString())})::text"))!;
}
