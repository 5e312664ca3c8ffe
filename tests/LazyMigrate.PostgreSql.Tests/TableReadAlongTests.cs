using LazyMigrate.PostgreSql.Tests.Tables;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// A new store's lock reads a legacy table of the same database (<see cref="PostgreSqlTableOldStore{TOld}"/>) along
/// with its re-read, as it reads a document-layout old table (<see cref="OldTableReadAlongTests"/>, which also
/// migrates through either layout, and reads neither along from another database).
/// </summary>
[Collection("postgres")]
public sealed class TableReadAlongTests(PostgresServer server)
{
    [Theory]
    [InlineData(PostgreSqlKeyType.Integer)]
    [InlineData(PostgreSqlKeyType.BigInt)]
    [InlineData(PostgreSqlKeyType.Uuid)]
    [InlineData(PostgreSqlKeyType.Text)]
    public async Task TryLockAndReadOld_OverALegacyTable_ReadsTheOldRowsOfExactlyTheIdsTheNewTableLacks(
        PostgreSqlKeyType keyType
    )
    {
        PostgreSqlTableOldStore<LegacyCustomer> oldStore = await LegacyTables.CustomerStoreAsync(
            server.DataSource,
            keyType
        );
        var newStore = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());
        string onlyOld = Key(keyType, 1),
            both = Key(keyType, 2),
            deletedNew = Key(keyType, 3);
        foreach (string id in new[] { onlyOld, both, deletedNew })
        {
            await oldStore.UpsertAsync(id, LegacyCustomer.Create(id, 1));
        }

        await newStore.UpsertAsync(both, Customer.Create(both, 2));
        await newStore.DeleteAsync(deletedNew);
        // Ids the legacy table cannot hold (not its keys in canonical form) are locked, and read nothing of it.
        string[] ids = [onlyOld, both, deletedNew, Key(keyType, 4), .. NotKeys(keyType)];

        await using INewStoreLock<Customer>? held = await newStore.TryLockAndReadOldAsync(ids, TimeSpan.Zero, oldStore);

        var readAlong = Assert.IsAssignableFrom<IOldStoreReadAlong<LegacyCustomer>>(held);
        Assert.Equal([onlyOld], readAlong.OldEntities.Keys);
        Assert.Equal(onlyOld, readAlong.OldEntities[onlyOld].Id);
        Assert.Equal(1, readAlong.OldEntities[onlyOld].Version);
        Assert.Equal([both, deletedNew], held!.Current.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(NewStoreState.Deleted, held.Current[deletedNew].State);
    }

    [Fact]
    public async Task TryLockAndReadOld_OfOneId_OverALegacyTableWithAnIntegerKey_ReadsItsRow_OrNothingForANonKey()
    {
        PostgreSqlTableOldStore<LegacyCustomer> oldStore = await LegacyTables.CustomerStoreAsync(
            server.DataSource,
            PostgreSqlKeyType.Integer
        );
        var newStore = new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options());
        await oldStore.UpsertAsync("7", LegacyCustomer.Create("7", 7));

        await using INewStoreLock<Customer>? held = await newStore.TryLockAndReadOldAsync(
            ["7"],
            TimeSpan.Zero,
            oldStore
        );
        await using INewStoreLock<Customer>? notAKey = await newStore.TryLockAndReadOldAsync(
            ["007"],
            TimeSpan.Zero,
            oldStore
        );

        Assert.Equal(7, Assert.IsAssignableFrom<IOldStoreReadAlong<LegacyCustomer>>(held).OldEntities["7"].Version);
        Assert.Empty(held!.Current);
        Assert.Empty(Assert.IsAssignableFrom<IOldStoreReadAlong<LegacyCustomer>>(notAKey).OldEntities);
    }

    /// <summary>The <paramref name="n"/>th key of a key type, in canonical form.</summary>
    private static string Key(PostgreSqlKeyType keyType, int n) =>
        keyType switch
        {
            PostgreSqlKeyType.Uuid => $"00000000-0000-4000-8000-{n:D12}",
            PostgreSqlKeyType.Text => $"key-{n}",
            _ => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

    /// <summary>Valid ids that are not keys of the type in canonical form (every id is a text key).</summary>
    private static string[] NotKeys(PostgreSqlKeyType keyType) =>
        keyType switch
        {
            PostgreSqlKeyType.Uuid => ["00000000-0000-4000-8000-00000000000A", "not-a-uuid"],
            PostgreSqlKeyType.Text => [],
            PostgreSqlKeyType.Integer => ["01", "x", "2147483648"],
            _ => ["01", "x", "9223372036854775808"],
        };
}
