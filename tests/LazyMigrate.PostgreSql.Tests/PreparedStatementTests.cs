using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>The stores prepare their statements on each pooled connection, unless told not to.</summary>
[Collection("postgres")]
public sealed class PreparedStatementTests(PostgresServer server)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Statements_ArePreparedOnThePooledConnection_OnlyWhenPrepareStatementsIsOn(bool prepare)
    {
        // One pooled connection: the store's commands and the check below share the physical connection.
        await using NpgsqlDataSource single = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(server.ConnectionString) { MaxPoolSize = 1 }.ConnectionString
        );
        string table = TestDatabase.UniqueTable();
        var store = new PostgreSqlNewStore<Customer>(
            single,
            TestDatabase.Options(table, o => o.PrepareStatements = prepare)
        );

        await store.UpsertAsync("a", Customer.Create("a", 1));
        await store.FindAsync("a");
        await store.FindAsync("a");

        long prepared = await single.ScalarAsync<long>(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%' || $1 || '%'",
            table
        );
        Assert.Equal(prepare ? 2 : 0, prepared); // the upsert and the find, each once
        Assert.Equal(1, (await store.FindAsync("a")).Value!.Version);
    }

    [Fact]
    public async Task AMultiplexingDataSource_NeverPrepares_AndStillWorks()
    {
        await using NpgsqlDataSource multiplexing = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(server.ConnectionString) { Multiplexing = true }.ConnectionString
        );
        var store = new PostgreSqlNewStore<Customer>(multiplexing, TestDatabase.Options());

        await store.UpsertAsync("a", Customer.Create("a", 3));

        Assert.Equal(3, (await store.FindAsync("a")).Value!.Version);
    }
}
