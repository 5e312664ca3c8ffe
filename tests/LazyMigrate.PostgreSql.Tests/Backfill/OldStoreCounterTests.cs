using LazyMigrate.PostgreSql.Tests.Tables;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Backfill;

/// <summary>
/// Both PostgreSQL old stores count what a scan from a cursor yields (the backfill's total and time left): in the
/// scan's own order and with its own conditions, so a count and a scan from the same cursor agree.
/// </summary>
[Collection("postgres")]
public sealed class OldStoreCounterTests(PostgresServer server)
{
    [Fact]
    public async Task DocumentOldStore_CountsLiveRowsAfterTheCursorInOrdinalOrder()
    {
        var store = new PostgreSqlOldStore<LegacyCustomer>(server.DataSource, TestDatabase.Options());
        foreach (string id in new[] { "a", "B", "b", "bb", "c" })
        {
            await store.UpsertAsync(id, LegacyCustomer.Create(id, 1));
        }

        await store.DeleteAsync("bb");

        // Ordinal order: B < a < b < c; the deleted bb counts nowhere.
        Assert.Equal(4, await store.CountAfterAsync(null));
        Assert.Equal(3, await store.CountAfterAsync("B"));
        Assert.Equal(1, await store.CountAfterAsync("b"));
        Assert.Equal(0, await store.CountAfterAsync("c"));
        foreach (string? cursor in new[] { null, "B", "a", "b", "ba", "c" })
        {
            Assert.Equal(await store.ScanAsync(cursor).CountAsync(), await store.CountAfterAsync(cursor));
        }
    }

    [Fact]
    public async Task TableOldStore_CountsRowsAfterTheCursorInTheKeysOrder()
    {
        PostgreSqlTableOldStore<LegacyCustomer> store = await LegacyTables.CustomerStoreAsync(
            server.DataSource,
            PostgreSqlKeyType.Integer
        );
        for (int key = 1; key <= 12; key++)
        {
            await store.UpsertAsync($"{key}", LegacyCustomer.Create($"{key}", 1));
        }

        await store.DeleteAsync("11");

        // Numeric order: after 9 come 10 and 12 (in text order "9" would be last, with nothing after it).
        Assert.Equal(11, await store.CountAfterAsync(null));
        Assert.Equal(2, await store.CountAfterAsync("9"));
        Assert.Equal(0, await store.CountAfterAsync("12"));
        foreach (string? cursor in new[] { null, "1", "9", "10", "11", "100" })
        {
            Assert.Equal(await store.ScanAsync(cursor).CountAsync(), await store.CountAfterAsync(cursor));
        }
    }
}
