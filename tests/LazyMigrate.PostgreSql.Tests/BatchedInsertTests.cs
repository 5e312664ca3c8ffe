using System.Transactions;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>The batched insert-if-absent is one statement that reports exactly the ids it inserted.</summary>
[Collection("postgres")]
public sealed class BatchedInsertTests(PostgresServer server)
{
    [Fact]
    public async Task InsertMany_ReportsExactlyTheInsertedIds_AmongValuesTombstonesAndRepeats()
    {
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());
        await store.UpsertAsync("saved", Customer.Create("saved", 1));
        await store.DeleteAsync("deleted");

        IReadOnlyCollection<string> inserted = await store.InsertManyIfAbsentAsync([
            new("new-b", Customer.Create("new-b", 9)),
            new("saved", Customer.Create("saved", 9)),
            new("new-a", Customer.Create("new-a", 9)),
            new("deleted", Customer.Create("deleted", 9)),
            new("new-a", Customer.Create("new-a", 10)),
        ]);

        Assert.Equal(["new-a", "new-b"], inserted.Order(StringComparer.Ordinal));
        Assert.Equal(9, (await store.FindAsync("new-a")).Value!.Version);
        Assert.Equal(1, (await store.FindAsync("saved")).Value!.Version);
        Assert.Equal(NewStoreState.Deleted, (await store.FindAsync("deleted")).State);
    }

    [Fact]
    public async Task InsertMany_OfThousands_InsertsAllInOneCall()
    {
        var options = TestDatabase.Options();
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, options);
        KeyValuePair<string, Customer>[] entities = Enumerable
            .Range(0, 5_000)
            .Select(i => new KeyValuePair<string, Customer>($"c-{i:D5}", Customer.Create($"c-{i:D5}", i)))
            .ToArray();

        IReadOnlyCollection<string> first = await store.InsertManyIfAbsentAsync(entities);
        IReadOnlyCollection<string> second = await store.InsertManyIfAbsentAsync(entities);

        Assert.Equal(entities.Select(e => e.Key), first.Order(StringComparer.Ordinal));
        Assert.Empty(second);
        Assert.Equal(
            5_000L,
            await server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM \"{options.TableName}\"")
        );
    }

    /// <summary>
    /// The plain insert finds the rows present, values and tombstones, by one range scan between the batch's bounds:
    /// one statement inserts exactly the absent rows and keeps the others, with no unique violation to fall back from.
    /// </summary>
    [Fact]
    public async Task InsertMany_WithPresentRowsInItsRange_InsertsExactlyTheAbsent_InOneStatement()
    {
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());
        for (int i = 0; i < 20; i += 4)
        {
            await store.UpsertAsync($"r-{i:D2}", Customer.Create($"r-{i:D2}", 1));
            await store.DeleteAsync($"r-{i + 1:D2}");
        }

        using var recorder = new StatementRecorder();
        IReadOnlyCollection<string> inserted;
        using (recorder.Step("insert"))
        {
            inserted = await store.InsertManyIfAbsentAsync(
                Enumerable.Range(0, 20).Select(i => Entity($"r-{i:D2}", 9)).ToArray()
            );
        }

        Assert.Equal(
            Enumerable.Range(0, 20).Where(i => i % 4 > 1).Select(i => $"r-{i:D2}"),
            inserted.Order(StringComparer.Ordinal)
        );
        Assert.Single(recorder.Of("insert"), s => s.Contains("INSERT", StringComparison.Ordinal));
        Assert.Equal(1, (await store.FindAsync("r-16")).Value!.Version);
        Assert.Equal(NewStoreState.Deleted, (await store.FindAsync("r-17")).State);
        Assert.Equal(9, (await store.FindAsync("r-19")).Value!.Version);
    }

    /// <summary>
    /// A table that fills the batch's range past the cap (twice the batch) makes the statement probe each row
    /// instead, and the next batches skip the scan: each way, exactly the absent rows are inserted and the present
    /// ones kept.
    /// </summary>
    [Fact]
    public async Task InsertMany_WhoseRangeTheTableFillsPastTheCap_InsertsExactlyTheAbsent_EveryTime()
    {
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());
        await store.InsertManyIfAbsentAsync(
            Enumerable.Range(1, 98).Select(i => Entity($"m-{i:D3}", 1)).Append(Entity("m-500", 1)).ToArray()
        );

        // Three batches of absent ids at the range's ends and one present id inside it: 99 rows in a range whose cap
        // is 34, then the same shape while the scan is skipped.
        using var recorder = new StatementRecorder();
        for (int round = 0; round < 3; round++)
        {
            string[] absent = Enumerable
                .Range(0, 15)
                .Select(i => $"m-000-{round}-{i:D2}")
                .Append($"m-999-{round}")
                .ToArray();
            IReadOnlyCollection<string> inserted;
            using (recorder.Step($"round {round}"))
            {
                inserted = await store.InsertManyIfAbsentAsync(
                    absent.Select(id => Entity(id, 9)).Append(Entity("m-500", 9)).ToArray()
                );
            }

            Assert.Equal(absent, inserted.Order(StringComparer.Ordinal));

            // One statement: the present row was found by the probe a row, never by a failed insert.
            Assert.Single(recorder.Of($"round {round}"), s => s.Contains("INSERT", StringComparison.Ordinal));
        }

        Assert.Equal(1, (await store.FindAsync("m-500")).Value!.Version);
        Assert.Equal(9, (await store.FindAsync("m-999-2")).Value!.Version);
    }

    /// <summary>
    /// UTF-16's ordinal order puts a character above U+FFFF (a surrogate pair) before U+FF61, where PostgreSQL's byte
    /// order puts it after: bounds taken in that order would cross, miss the present row, and fail the plain insert.
    /// Taken in code point order they hold it: one statement keeps it and inserts the rest.
    /// </summary>
    [Fact]
    public async Task InsertMany_OfIdsAboveTheBasicPlane_FindsThePresentRowByItsRange()
    {
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());
        const string Emoji = "\U0001F600",
            Halfwidth = "\uFF61";
        Assert.True(string.CompareOrdinal(Emoji, Halfwidth) < 0);
        await store.InsertManyIfAbsentAsync([Entity(Emoji, 1)]);
        KeyValuePair<string, Customer>[] batch = Enumerable
            .Range(0, PresentRangeProbe.MinBatchSize)
            .Select(i => Entity($"{Halfwidth}{i:D2}", 9))
            .Append(Entity(Emoji, 9))
            .ToArray();

        using var recorder = new StatementRecorder();
        IReadOnlyCollection<string> inserted;
        using (recorder.Step("insert"))
        {
            inserted = await store.InsertManyIfAbsentAsync(batch);
        }

        Assert.Equal(batch.SkipLast(1).Select(e => e.Key), inserted.Order(StringComparer.Ordinal));
        Assert.Single(recorder.Of("insert"), s => s.Contains("INSERT", StringComparison.Ordinal));
        Assert.Equal(1, (await store.FindAsync(Emoji)).Value!.Version);
    }

    /// <summary>
    /// The batch is first a plain insert of the absent rows; a row another transaction inserts after its snapshot fails
    /// it with a unique violation, and the batch runs again as insert-if-absent: that row is kept, the rest inserted.
    /// Inside an ambient <see cref="TransactionScope"/>, where a failed statement would abort the caller's
    /// transaction, the batch is insert-if-absent from the start, and the scope commits.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task InsertMany_RacingAnInsertCommittedMeanwhile_KeepsThatRow_AndInsertsTheRest(bool inScope)
    {
        var options = TestDatabase.Options();
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, options);
        await store.InsertManyIfAbsentAsync([new("created-table", Customer.Create("created-table", 1))]);
        await using var other = await server.DataSource.OpenConnectionAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (
            var insert = new Npgsql.NpgsqlCommand(
                $"INSERT INTO \"{options.TableName}\" (id, payload) VALUES ('raced', '{{\"version\": 7}}')",
                other,
                transaction
            )
        )
        {
            await insert.ExecuteNonQueryAsync();
        }

        // The batch waits on the uncommitted row's index entry; once the other transaction commits, it fails there.
        using TransactionScope? scope = inScope
            ? new TransactionScope(
                TransactionScopeOption.Required,
                new TransactionOptions { IsolationLevel = IsolationLevel.ReadCommitted },
                TransactionScopeAsyncFlowOption.Enabled
            )
            : null;
        var batch = store
            .InsertManyIfAbsentAsync([
                new("raced", Customer.Create("raced", 1)),
                new("free", Customer.Create("free", 1)),
            ])
            .AsTask();
        using (new TransactionScope(TransactionScopeOption.Suppress, TransactionScopeAsyncFlowOption.Enabled))
        {
            // Outside the scope's transaction: one enlisted connection is all a scope on PostgreSQL can have.
            await Eventually.TrueAsync(
                async () =>
                    await server.DataSource.ScalarAsync<long>(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1",
                        $"%INSERT INTO %{options.TableName}%"
                    ) == 1,
                what: "The batch waiting on the other transaction's row"
            );
            await transaction.CommitAsync();
        }

        Assert.Equal(["free"], await batch);
        scope?.Complete();
        scope?.Dispose();
        Assert.Equal(7, (await store.FindAsync("raced")).Value!.Version);
        Assert.Equal(1, (await store.FindAsync("free")).Value!.Version);
    }

    [Fact]
    public async Task InsertMany_Empty_InsertsNothing()
    {
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());

        Assert.Empty(await store.InsertManyIfAbsentAsync([]));
        Assert.Empty(await store.FindManyAsync([]));
    }

    private static KeyValuePair<string, Customer> Entity(string id, int version) =>
        new(id, Customer.Create(id, version));
}
