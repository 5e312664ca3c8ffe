using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.PostgreSql.Tests.Tables;

/// <summary>
/// Write-back keeps the legacy row whole: an upsert writes only the mapped columns, so a column only the legacy
/// application knows keeps its value through saves, and a row deleted then created again gets the column's default.
/// </summary>
[Collection("postgres")]
public sealed class TableStoreWriteTests(PostgresServer server)
{
    private static readonly DateTime Stamp = new(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    [Fact]
    public async Task Upsert_KeepsLegacyOnlyColumns_AndARecreatedRowGetsTheirDefaults()
    {
        var store = await LegacyTables.CustomerStoreAsync(server.DataSource, PostgreSqlKeyType.Integer);
        await store.UpsertAsync("5", LegacyCustomer.Create("5", 1));
        await SetLegacyColumnsAsync(store.TableName, 5);

        await store.UpsertAsync("5", LegacyCustomer.Create("5", 2));
        var saved = await LegacyColumnsAsync(store.TableName, 5);
        await store.DeleteAsync("5");
        await store.UpsertAsync("5", LegacyCustomer.Create("5", 3));
        var recreated = await LegacyColumnsAsync(store.TableName, 5);

        Assert.Equal((Stamp, 42, 2), saved);
        Assert.Equal(7, recreated.Flags); // the column's DEFAULT
        Assert.NotNull(recreated.UpdatedAt); // DEFAULT now()
        Assert.NotEqual(Stamp, recreated.UpdatedAt);
        Assert.Equal(3, recreated.Version);
    }

    [Fact]
    public async Task UpsertMany_KeepsLegacyOnlyColumns_AndANewRowGetsTheirDefaults()
    {
        var store = await LegacyTables.CustomerStoreAsync(server.DataSource, PostgreSqlKeyType.Integer);
        await store.UpsertAsync("5", LegacyCustomer.Create("5", 1));
        await SetLegacyColumnsAsync(store.TableName, 5);

        await store.UpsertManyAsync([new("5", LegacyCustomer.Create("5", 2)), new("6", LegacyCustomer.Create("6", 1))]);
        var saved = await LegacyColumnsAsync(store.TableName, 5);
        var inserted = await LegacyColumnsAsync(store.TableName, 6);

        Assert.Equal((Stamp, 42, 2), saved);
        Assert.Equal(7, inserted.Flags); // the column's DEFAULT
        Assert.NotNull(inserted.UpdatedAt); // DEFAULT now()
        Assert.Equal(1, inserted.Version);
    }

    [Fact]
    public async Task SyncWriteBack_ThroughTheRepository_KeepsLegacyOnlyColumns_AndARecreatedRowGetsTheirDefaults()
    {
        string table = await LegacyTables.CreateCustomersAsync(server.DataSource, PostgreSqlKeyType.Integer);
        string quoted = $"\"public\".\"{table}\"";
        await using ServiceProvider provider = SyncWriteBackInto(table);
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        await server.DataSource.ExecuteAsync($"INSERT INTO {quoted} (full_name, version) VALUES ('Ada Lovelace', 1)");
        await SetLegacyColumnsAsync(quoted, 1);

        Customer migrated = (await repository.GetAsync("1"))!;
        migrated.Version = 2;
        await repository.SaveAsync("1", migrated);
        var saved = await LegacyColumnsAsync(quoted, 1);
        await repository.DeleteAsync("1");
        await repository.SaveAsync("1", Customer.Create("1", 3));
        var recreated = await LegacyColumnsAsync(quoted, 1);

        Assert.Equal((Stamp, 42, 2), saved);
        Assert.Equal((7, 3), (recreated.Flags, recreated.Version));
        Assert.NotNull(recreated.UpdatedAt);
        Assert.NotEqual(Stamp, recreated.UpdatedAt);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("05")]
    public async Task SyncWriteBack_OfAnIdTheIntegerKeyCannotHold_FailsNamingIt_AndLeavesBothStoresUnchanged(string id)
    {
        string table = await LegacyTables.CreateCustomersAsync(server.DataSource, PostgreSqlKeyType.Integer);
        await using ServiceProvider provider = SyncWriteBackInto(table);
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        var newStore = provider.GetRequiredKeyedService<INewStore<Customer>>("LegacyCustomer->Customer");

        var save = await Assert.ThrowsAsync<InvalidEntityIdException>(() =>
            repository.SaveAsync(id, Customer.Create(id, 1)).AsTask()
        );
        var delete = await Assert.ThrowsAsync<InvalidEntityIdException>(() => repository.DeleteAsync(id).AsTask());

        Assert.Equal((id, id), (save.EntityId, delete.EntityId));
        Assert.Equal(NewStoreState.Missing, (await newStore.FindAsync(id)).State);
        Assert.Equal(0L, await server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM \"public\".\"{table}\""));
    }

    /// <summary>A migration from the integer-keyed legacy table to a new document table, Sync write-back.</summary>
    private ServiceProvider SyncWriteBackInto(string table)
    {
        var services = new ServiceCollection();
        services.AddSingleton(server.DataSource);
        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Sync)
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UsePostgreSqlTableOldStore(o => (o.TableName, o.KeyType) = (table, PostgreSqlKeyType.Integer))
            .UsePostgreSqlNewStore(o => (o.TableName, o.CreateSchema) = (TestDatabase.UniqueTable("new"), true))
            .UseInMemoryLock();
        return services.BuildServiceProvider();
    }

    private Task SetLegacyColumnsAsync(string table, int id) =>
        server.DataSource.ExecuteAsync($"UPDATE {table} SET updated_at = $1, flags = 42 WHERE id = $2", Stamp, id);

    private async Task<(DateTime? UpdatedAt, int Flags, int Version)> LegacyColumnsAsync(string table, int id)
    {
        await using var command = server.DataSource.CreateCommand(
            $"SELECT updated_at, flags, version FROM {table} WHERE id = $1"
        );
        command.Parameters.Add(new Npgsql.NpgsqlParameter<int> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"row {id} of {table} is missing");
        return (reader.IsDBNull(0) ? null : reader.GetFieldValue<DateTime>(0), reader.GetInt32(1), reader.GetInt32(2));
    }
}
