using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// The keyset scan pages internally: one query per <c>ScanPageSize</c> rows, each resuming after the last id seen.
/// </summary>
[Collection("postgres")]
public sealed class ScanPagingTests(PostgresServer server)
{
    [Theory]
    [InlineData(0, 3)]
    [InlineData(1, 3)]
    [InlineData(3, 3)]
    [InlineData(6, 3)]
    [InlineData(7, 3)]
    [InlineData(25, 1)]
    public async Task Scan_AcrossPageBoundaries_YieldsEachRowOnceInOrder(int rows, int pageSize)
    {
        var store = new PostgreSqlOldStore<LegacyCustomer>(
            server.DataSource,
            TestDatabase.Options(configure: o => o.ScanPageSize = pageSize)
        );
        string[] ids = Enumerable.Range(0, rows).Select(i => $"id-{i:D3}").Reverse().ToArray();
        foreach (string id in ids)
        {
            await store.UpsertAsync(id, LegacyCustomer.Create(id, 1));
        }

        List<string> scanned = await store.ScanAsync(null).Select(e => e.Key).ToListAsync();

        Assert.Equal(ids.Order(StringComparer.Ordinal), scanned);
    }

    [Fact]
    public async Task Scan_ReadsTheNextPageOnlyWhenTheCallerGetsThere()
    {
        var store = new PostgreSqlOldStore<LegacyCustomer>(
            server.DataSource,
            TestDatabase.Options(configure: o => o.ScanPageSize = 2)
        );
        foreach (string id in new[] { "a", "b", "d", "e" })
        {
            await store.UpsertAsync(id, LegacyCustomer.Create(id, 1));
        }

        var seen = new List<string>();
        await foreach (var (id, _) in store.ScanAsync(null))
        {
            seen.Add(id);
            if (id == "a")
            {
                // The first page (a, b) is read; a row after it appears in the second query, a row inside it does not.
                await store.UpsertAsync("c", LegacyCustomer.Create("c", 1));
                await store.UpsertAsync("a0", LegacyCustomer.Create("a0", 1));
            }
        }

        Assert.Equal(["a", "b", "c", "d", "e"], seen);
    }

    [Fact]
    public async Task Scan_FromACursorBetweenIds_ResumesAfterIt_InOrdinalOrder()
    {
        var store = new PostgreSqlOldStore<LegacyCustomer>(
            server.DataSource,
            TestDatabase.Options(configure: o => o.ScanPageSize = 2)
        );
        string[] ids = ["B", "a", "a-1", "a_1", "b", "Z", "10", "9", "~"];
        foreach (string id in ids)
        {
            await store.UpsertAsync(id, LegacyCustomer.Create(id, 1));
        }

        List<string> rest = await store.ScanAsync("a0").Select(e => e.Key).ToListAsync();

        Assert.Equal(ids.Where(id => string.CompareOrdinal(id, "a0") > 0).Order(StringComparer.Ordinal), rest);
    }

    [Fact]
    public async Task Scan_Cancelled_StopsBetweenRows()
    {
        var store = new PostgreSqlOldStore<LegacyCustomer>(
            server.DataSource,
            TestDatabase.Options(configure: o => o.ScanPageSize = 2)
        );
        foreach (string id in new[] { "a", "b", "c", "d" })
        {
            await store.UpsertAsync(id, LegacyCustomer.Create(id, 1));
        }

        using var cancellation = new CancellationTokenSource();
        var seen = new List<string>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var (id, _) in store.ScanAsync(null, cancellation.Token))
            {
                seen.Add(id);
                if (id == "b")
                {
                    await cancellation.CancelAsync();
                }
            }
        });

        Assert.Equal(["a", "b"], seen);
    }
}
