using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.ForwardSync;

/// <summary>
/// Two folds of the captures table at once, as two dispatchers' claims make them: neither waits for the captures the
/// other holds, each capture is folded once, and two folds of one entity write its item one after the other, the
/// second adding to the first's version. The other fold is held open in a transaction of the test's, a gate.
/// </summary>
[Collection("postgres")]
public sealed class CaptureFoldConcurrencyTests(PostgresServer server)
{
    private const string Migration = CapturingLegacyTables.Migration;

    private NpgsqlDataSource DataSource => server.DataSource;

    [Fact]
    public async Task AClaim_SkipsTheCapturesAnotherFoldHolds_WithoutWaiting_AndThatFoldRecordsThemOnce()
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource, compiled: false);
        await DataSource.ExecuteAsync(
            $"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1), (2, 'Grace', 1), (3, 'Alan', 1)"
        );
        await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET version = 2 WHERE id IN (1, 2)");
        long latestOf2 = Assert.Single(await CapturingLegacyTables.ForwardSyncsAsync(outbox, "2")).Sequence;

        // Another fold in flight holds the captures of entity 2: its row locks, taken here, since a fold takes captures
        // in no order and could not be made to take those of one entity alone.
        await using NpgsqlConnection other = await DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction otherFold = await other.BeginTransactionAsync();
        await using (
            var hold = new NpgsqlCommand(
                $"SELECT FROM {outbox.Sql.Captures.Table.Qualified} WHERE entity_id = '2' FOR UPDATE",
                other,
                otherFold
            )
        )
        {
            await hold.ExecuteNonQueryAsync();
        }

        // A claim that waited for them would be cancelled, and fail the test, rather than hang it.
        using var bound = new CancellationTokenSource(Eventually.DefaultBound);
        IReadOnlyList<OutboxItem> claimed = await outbox.ClaimAsync(Claim("a"), bound.Token);

        Assert.Equal(["1", "3"], claimed.Select(i => i.EntityId).Order(StringComparer.Ordinal));
        Assert.All(claimed, i => Assert.Equal(1L, i.Version));
        Assert.Equal(2L, await CapturingLegacyTables.CapturedAsync(outbox, "2"));
        Assert.Equal(latestOf2, Assert.Single(await CapturingLegacyTables.ForwardSyncsAsync(outbox, "2")).Sequence);

        // The other fold takes what it holds; what the claim folded is gone, and is not folded twice.
        Assert.Equal(1, await FoldAsync(outbox, other, otherFold));
        await otherFold.CommitAsync();
        OutboxItem folded = Assert.Single(await CapturingLegacyTables.ForwardSyncsAsync(outbox, "2"));
        Assert.Equal((1L, latestOf2), (folded.Version, folded.Sequence));
        Assert.Equal(0L, await CapturingLegacyTables.CapturedAsync(outbox, "1", "2", "3"));
    }

    [Fact]
    public async Task AFoldThatMeetsTheItemAnotherFoldIsWriting_WaitsForItsCommit_AndAddsToItsVersion()
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource, compiled: false);
        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1)");

        // Another fold writes the item of entity 1 and has not committed; a legacy write captures entity 1 again.
        await using NpgsqlConnection other = await DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction otherFold = await other.BeginTransactionAsync();
        Assert.Equal(1, await FoldAsync(outbox, other, otherFold));
        await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET version = 2 WHERE id = 1");
        long latest = Assert.Single(await CapturingLegacyTables.ForwardSyncsAsync(outbox, "1")).Sequence;

        Task<IReadOnlyList<OutboxItem>> claiming = outbox.ClaimAsync(Claim("a")).AsTask();
        await Eventually.TrueAsync(
            async () => claiming.IsCompleted || await WaitsForAsync(outbox, other),
            what: "the claim's fold waits for the item the other fold wrote"
        );
        if (claiming.IsCompleted)
        {
            // A failure shows as itself; a claim that went on without waiting fails here.
            await claiming;
            Assert.Fail("the claim's fold did not wait for the other fold's item");
        }

        await otherFold.CommitAsync();

        OutboxItem claimed = Assert.Single(await claiming);
        Assert.Equal(("1", 2L, latest), (claimed.EntityId, claimed.Version, claimed.Sequence));
        Assert.Equal(0L, await CapturingLegacyTables.CapturedAsync(outbox, "1"));
    }

    private static OutboxClaim Claim(string owner)
    {
        // The captures take the database's clock: a claim a minute ahead finds them due.
        DateTimeOffset now = DateTimeOffset.UtcNow.AddMinutes(1);
        return new OutboxClaim(Migration, owner, 10, now, now.AddMinutes(1));
    }

    /// <summary>A claim's fold, run in <paramref name="transaction"/>; returns the items it wrote.</summary>
    private static async Task<int> FoldAsync(
        PostgreSqlOutbox outbox,
        NpgsqlConnection connection,
        NpgsqlTransaction transaction
    )
    {
        await using var fold = new NpgsqlCommand(outbox.Sql.Captures.Fold, connection, transaction)
        {
            Parameters = { OutboxRows.Text(Migration), OutboxRows.Int(10) },
        };
        return await fold.ExecuteNonQueryAsync();
    }

    /// <summary>Whether a statement on the outbox's tables waits for a lock <paramref name="holder"/> holds.</summary>
    private async Task<bool> WaitsForAsync(PostgreSqlOutbox outbox, NpgsqlConnection holder) =>
        await DataSource.ScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0 "
                + "AND $2 = ANY (pg_blocking_pids(pid))",
            outbox.TableName,
            holder.ProcessID
        ) > 0;
}
