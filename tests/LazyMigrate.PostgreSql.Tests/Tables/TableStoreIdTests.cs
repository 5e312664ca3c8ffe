using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Tables;

/// <summary>
/// An id is the key in its canonical form: any other spelling of a number or UUID is an invalid id, refused before any
/// command runs by every method of the store, so one row never answers to two ids.
/// </summary>
[Collection("postgres")]
public sealed class TableStoreIdTests(PostgresServer server)
{
    [Theory]
    [InlineData(PostgreSqlKeyType.Integer, "05")]
    [InlineData(PostgreSqlKeyType.Integer, "+5")]
    [InlineData(PostgreSqlKeyType.Integer, " 5")]
    [InlineData(PostgreSqlKeyType.Integer, "5 ")]
    [InlineData(PostgreSqlKeyType.Integer, "5.0")]
    [InlineData(PostgreSqlKeyType.Integer, "-0")]
    [InlineData(PostgreSqlKeyType.Integer, "")]
    [InlineData(PostgreSqlKeyType.Integer, "1e3")]
    [InlineData(PostgreSqlKeyType.Integer, "2147483648")]
    [InlineData(PostgreSqlKeyType.BigInt, "9223372036854775808")]
    [InlineData(PostgreSqlKeyType.BigInt, "007")]
    [InlineData(PostgreSqlKeyType.Uuid, "0F8FAD5B-D9CB-469F-A165-70867728950E")]
    [InlineData(PostgreSqlKeyType.Uuid, "{0f8fad5b-d9cb-469f-a165-70867728950e}")]
    [InlineData(PostgreSqlKeyType.Uuid, "0f8fad5bd9cb469fa16570867728950e")]
    [InlineData(PostgreSqlKeyType.Uuid, " 0f8fad5b-d9cb-469f-a165-70867728950e")]
    [InlineData(PostgreSqlKeyType.Uuid, "0f8fad5b-d9cb-469f-a165-70867728950e ")]
    [InlineData(PostgreSqlKeyType.Uuid, "0f8fad5b-0x9c-469f-a165-70867728950e")]
    [InlineData(PostgreSqlKeyType.Uuid, "0f8fad5b-+9cb-469f-a165-70867728950e")]
    [InlineData(PostgreSqlKeyType.Text, "nul\0inside")]
    public async Task EveryMethod_ANonCanonicalId_IsAnInvalidEntityIdNamingIt(PostgreSqlKeyType keyType, string id)
    {
        var store = await LegacyTables.CustomerStoreAsync(server.DataSource, keyType);

        InvalidEntityIdException[] failures =
        [
            await Assert.ThrowsAsync<InvalidEntityIdException>(() => store.FindAsync(id).AsTask()),
            await Assert.ThrowsAsync<InvalidEntityIdException>(() => store.FindManyAsync([id]).AsTask()),
            await Assert.ThrowsAsync<InvalidEntityIdException>(() =>
                store.UpsertAsync(id, LegacyCustomer.Create(id, 1)).AsTask()
            ),
            await Assert.ThrowsAsync<InvalidEntityIdException>(() => store.DeleteAsync(id).AsTask()),
            Assert.Throws<InvalidEntityIdException>(() => store.ScanAsync(id)),
            await Assert.ThrowsAsync<InvalidEntityIdException>(() => store.CountAfterAsync(id).AsTask()),
        ];

        Assert.All(failures, failure => Assert.Equal(id, failure.EntityId));
        Assert.Equal(0, await server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM {store.TableName}"));
    }

    [Theory]
    [InlineData(PostgreSqlKeyType.Integer, "-5")]
    [InlineData(PostgreSqlKeyType.Integer, "0")]
    [InlineData(PostgreSqlKeyType.Integer, "2147483647")]
    [InlineData(PostgreSqlKeyType.BigInt, "-9223372036854775808")]
    [InlineData(PostgreSqlKeyType.Uuid, "0f8fad5b-d9cb-469f-a165-70867728950e")]
    [InlineData(PostgreSqlKeyType.Text, " 05 ")]
    public async Task CanonicalIds_RoundTrip(PostgreSqlKeyType keyType, string id)
    {
        var store = await LegacyTables.CustomerStoreAsync(server.DataSource, keyType);

        await store.UpsertAsync(id, LegacyCustomer.Create(id, 1));

        Assert.Equal(id, (await store.FindAsync(id))!.Id);
        Assert.Equal([id], (await store.FindManyAsync([id])).Keys);
        Assert.Equal(id, (await store.FindManyAsync([id]))[id].Id);
    }

    [Fact]
    public async Task Scan_OfIntegerKeys_GoesInNumericOrder()
    {
        var store = await IntegerKeyStoreWithPagesOfFourAsync();
        foreach (int key in new[] { 11, 2, 10, 1, 5, 3, 9, 4, 8, 6, 7 })
        {
            await store.UpsertAsync(key.ToString(), LegacyCustomer.Create(key.ToString(), key));
        }

        var scanned = new List<string>();
        await foreach (var (id, entity) in store.ScanAsync(null))
        {
            Assert.Equal(id, entity.Id);
            scanned.Add(id);
        }

        Assert.Equal(Enumerable.Range(1, 11).Select(i => i.ToString()), scanned);
    }

    [Fact]
    public async Task Scan_CanceledWhileThePageIsRead_ThrowsBeforeTheNextPage_AfterYieldingThisOne()
    {
        var store = await IntegerKeyStoreWithPagesOfFourAsync();
        for (int key = 1; key <= 9; key++)
        {
            await store.UpsertAsync(key.ToString(), LegacyCustomer.Create(key.ToString(), key));
        }

        using var cancel = new CancellationTokenSource();
        var scanned = new List<string>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var (id, _) in store.ScanAsync(null).WithCancellation(cancel.Token))
            {
                scanned.Add(id);
                await cancel.CancelAsync();
            }
        });

        Assert.Equal(["1", "2", "3", "4"], scanned);
    }

    private async Task<PostgreSqlTableOldStore<LegacyCustomer>> IntegerKeyStoreWithPagesOfFourAsync()
    {
        var options = LegacyTables.CustomerOptions(
            await LegacyTables.CreateCustomersAsync(server.DataSource, PostgreSqlKeyType.Integer),
            PostgreSqlKeyType.Integer
        );
        options.ScanPageSize = 4;
        return new PostgreSqlTableOldStore<LegacyCustomer>(server.DataSource, options);
    }
}
