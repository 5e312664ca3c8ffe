using LazyMigrate.Outbox;
using LazyMigrate.PostgreSql.Tests.Tables;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Outbox;

/// <summary>
/// Claims against PostgreSQL's concurrency: two claimers never lease one item, one that finds another claim's rows
/// locked skips them instead of waiting, the claim reads the index of due items, and a completion racing a write
/// releases the item the write changed.
/// </summary>
[Collection("postgres")]
public sealed class OutboxClaimTests(PostgresServer server)
{
    private const string Migration = "LegacyCustomer->Customer";
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TwoClaimersRacing_AtABarrier_NeverLeaseOneItemTwice()
    {
        PostgreSqlOutbox outbox = await OutboxTables.CreateOutboxAsync(server.DataSource);
        const int Items = 300;
        for (int i = 0; i < Items; i++)
        {
            await outbox.RecordAsync(OutboxTables.WriteBack(Migration, $"e-{i:D3}", seconds: i % 7));
        }

        DateTimeOffset now = OutboxTables.T0.AddMinutes(1);

        // Each round, both claim at once; the round in which neither got anything ends both loops.
        int roundTotal = 0;
        bool drained = false;
        using var barrier = new Barrier(
            2,
            _ =>
            {
                drained = roundTotal == 0;
                roundTotal = 0;
            }
        );
        async Task<List<OutboxItem>> ClaimUntilEmptyAsync(string owner)
        {
            var mine = new List<OutboxItem>();
            while (true)
            {
                Meet(barrier);
                IReadOnlyList<OutboxItem> batch = await outbox.ClaimAsync(
                    new OutboxClaim(Migration, owner, 7, now, now + Lease)
                );
                mine.AddRange(batch);
                Interlocked.Add(ref roundTotal, batch.Count);
                Meet(barrier);
                if (drained)
                {
                    return mine;
                }
            }
        }

        Task<List<OutboxItem>> first = Task.Run(() => ClaimUntilEmptyAsync("first"));
        Task<List<OutboxItem>> second = Task.Run(() => ClaimUntilEmptyAsync("second"));
        List<OutboxItem>[] claimed = await Task.WhenAll(first, second);

        string[] all = [.. claimed.SelectMany(c => c).Select(i => i.EntityId)];
        Assert.Equal(Items, all.Length);
        Assert.Equal(Items, all.Distinct(StringComparer.Ordinal).Count());
        Assert.All(claimed[0], i => Assert.Equal("first", i.LeaseOwner));
        Assert.All(claimed[1], i => Assert.Equal("second", i.LeaseOwner));
    }

    [Fact]
    public async Task AClaimFindingAnotherClaimsRowsLocked_SkipsThem_AndNeverLeasesThemAgain()
    {
        PostgreSqlOutbox outbox = await OutboxTables.CreateOutboxAsync(server.DataSource);
        for (int i = 0; i < 6; i++)
        {
            await outbox.RecordAsync(OutboxTables.WriteBack(Migration, $"e-{i}", seconds: i));
        }

        DateTimeOffset now = OutboxTables.T0.AddMinutes(1);

        // The first claim's transaction stays open: its rows stay locked while the second claims.
        await using NpgsqlConnection held = await server.DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await held.BeginTransactionAsync();
        await using var firstClaim = new NpgsqlCommand(outbox.Sql.Claim, held, transaction);
        firstClaim.Parameters.AddRange(ClaimParameters("first", 3, now));
        var first = new List<string>();
        await using (NpgsqlDataReader reader = await firstClaim.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                first.Add(OutboxRows.Read(reader).EntityId);
            }
        }

        Task<IReadOnlyList<OutboxItem>> second = outbox
            .ClaimAsync(new OutboxClaim(Migration, "second", 6, now, now + Lease))
            .AsTask();
        await Eventually.TrueAsync(
            async () => second.IsCompleted || await WaitsOnARowLockAsync(outbox),
            what: "the second claim returned or waits for the first claim's rows"
        );
        await transaction.CommitAsync();

        IReadOnlyList<OutboxItem> secondItems = await second;
        Assert.Equal(["e-0", "e-1", "e-2"], first);
        Assert.Equal(["e-3", "e-4", "e-5"], secondItems.Select(i => i.EntityId));
        Assert.All(secondItems, i => Assert.Equal("second", i.LeaseOwner));
    }

    [Fact]
    public async Task TheClaim_ReadsTheIndexOfDueItems()
    {
        PostgreSqlOutbox outbox = await OutboxTables.CreateOutboxAsync(server.DataSource);
        await server.DataSource.ExecuteAsync(
            $"INSERT INTO {outbox.TableName} "
                + "(migration, kind, entity_id, version, recorded_at, attempts, next_attempt_at, dead_lettered) "
                + "SELECT 'm-' || (i % 20), 1, 'e-' || i, 1, $1, 0, $1 + i * interval '1 second', i % 10 = 0 "
                + "FROM generate_series(1, 4000) AS i",
            OutboxTables.T0.UtcDateTime
        );
        await server.DataSource.ExecuteAsync($"ANALYZE {outbox.TableName}");
        using var recorder = new StatementRecorder();
        using (recorder.Step("claim"))
        {
            await outbox.ClaimAsync(new OutboxClaim("m-3", "owner", 10, OutboxTables.T0, OutboxTables.T0 + Lease));
        }

        // The claim's round trip is BEGIN, the claim and COMMIT: the claim is explained.
        string roundTrip = Assert.Single(recorder.Of("claim"));
        Assert.Contains(outbox.Sql.Claim, roundTrip, StringComparison.Ordinal);
        Assert.Contains("BEGIN ISOLATION LEVEL READ COMMITTED", roundTrip, StringComparison.Ordinal);
        string plan = await server.DataSource.ExplainAsync(
            outbox.Sql.Claim,
            ClaimParameters("owner", 10, OutboxTables.T0.AddHours(1))
        );

        string index = PostgreSqlOutboxSchema.IndexName(outbox.Sql.Table, "_due").Trim('"');
        Assert.Contains($"Index Scan using {index}", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("Seq Scan", plan, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACompletionWaitingForAWriteThatChangesItsItem_ReleasesIt_DueAtOnce()
    {
        PostgreSqlOutbox outbox = await OutboxTables.CreateOutboxAsync(server.DataSource);
        await outbox.RecordAsync(OutboxTables.WriteBack(Migration, "a"));
        await outbox.RecordAsync(OutboxTables.WriteBack(Migration, "b"));
        DateTimeOffset now = OutboxTables.T0.AddMinutes(1);
        IReadOnlyList<OutboxItem> claimed = await outbox.ClaimAsync(
            new OutboxClaim(Migration, "owner", 10, now, now + Lease)
        );

        // A write of "a" holds its row while the completion waits for it: it commits a new version meanwhile.
        await using NpgsqlConnection writer = await server.DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await writer.BeginTransactionAsync();
        await using var record = new NpgsqlCommand(outbox.Sql.Record, writer, transaction);
        record.Parameters.AddRange(OutboxRows.Intent(OutboxTables.WriteBack(Migration, "a", seconds: 30)));
        await record.ExecuteNonQueryAsync();
        Task<int> completing = outbox.CompleteAsync(claimed).AsTask();
        await Eventually.TrueAsync(
            async () => completing.IsCompleted || await WaitsOnARowLockAsync(outbox),
            what: "the completion waits for the write's row"
        );
        await transaction.CommitAsync();

        Assert.Equal(1, await completing);
        OutboxItem again = Assert.Single(
            await outbox.ClaimAsync(new OutboxClaim(Migration, "next", 10, now, now + Lease))
        );
        Assert.Equal(("a", 2L), (again.EntityId, again.Version));
    }

    /// <summary>Waits at the barrier for the other claimer, which a failure of its own would leave waiting.</summary>
    private static void Meet(Barrier barrier)
    {
        if (!barrier.SignalAndWait(Eventually.DefaultBound))
        {
            throw new TimeoutException("The other claimer did not reach the barrier: it failed.");
        }
    }

    private static NpgsqlParameter[] ClaimParameters(string owner, int maxItems, DateTimeOffset now) =>
        [
            OutboxRows.Text(Migration),
            OutboxRows.Text(owner),
            OutboxRows.Time(now),
            OutboxRows.Time(now + Lease),
            OutboxRows.Int(maxItems),
        ];

    /// <summary>Whether a session waits for a row lock in a statement on the outbox's table.</summary>
    private async Task<bool> WaitsOnARowLockAsync(PostgreSqlOutbox outbox) =>
        await server.DataSource.ScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0",
            outbox.TableName
        ) > 0;
}
