using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.ForwardSync;

/// <summary>
/// <see cref="PostgreSqlForwardSyncTrigger.CreateAsync"/> before the tables its triggers write to exist: a failure that
/// names the missing table and what creates it, with PostgreSQL's error inside, and nothing created.
/// </summary>
[Collection("postgres")]
public sealed class TriggerPrerequisiteTests(PostgresServer server)
{
    [Fact]
    public async Task CreateAsync_BeforeTheOutbox_ThrowsNamingTheCapturesTableAndWhatCreatesIt_AndCreatesNothing()
    {
        await using NpgsqlDataSource dataSource = await DatabaseWithLegacyTableAsync();

        await RefusedAsync(
            dataSource,
            Options(),
            PostgresErrorCodes.UndefinedTable,
            "the outbox's captures table \"public\".\"lazymigrate_outbox_captures\" does not exist",
            "UsePostgreSqlOutbox with CreateSchema = true",
            "PostgreSqlOutboxSchema.CreateAsync"
        );
    }

    [Fact]
    public async Task CreateAsync_BeforeTheNewStoresTable_ThrowsNamingItAndWhatCreatesIt_AndCreatesNothing()
    {
        await using NpgsqlDataSource dataSource = await DatabaseWithLegacyTableAsync();
        await PostgreSqlOutboxSchema.CreateAsync(dataSource);

        await RefusedAsync(
            dataSource,
            Options(newStoreTable: "customer"),
            PostgresErrorCodes.UndefinedTable,
            "the new store's table \"public\".\"customer\" (NewStoreTable) does not exist",
            "UsePostgreSqlNewStore with CreateSchema = true",
            "PostgreSqlDocumentStoreSchema.CreateAsync"
        );
    }

    [Fact]
    public async Task CreateAsync_OnANewStoreTableWithoutItsStaleColumn_ThrowsNamingTheColumn_AndCreatesNothing()
    {
        await using NpgsqlDataSource dataSource = await DatabaseWithLegacyTableAsync();
        await PostgreSqlOutboxSchema.CreateAsync(dataSource);
        await dataSource.ExecuteAsync("CREATE TABLE customer (id text PRIMARY KEY, payload jsonb)");

        await RefusedAsync(
            dataSource,
            Options(newStoreTable: "customer"),
            PostgresErrorCodes.UndefinedColumn,
            "the new store's table \"public\".\"customer\" (NewStoreTable) has no stale column",
            "PostgreSqlDocumentStoreSchema.CreateAsync"
        );
    }

    /// <summary>
    /// Creates the trigger, which must fail with an <see cref="InvalidOperationException"/> that says each of
    /// <paramref name="said"/>, PostgreSQL's error of <paramref name="sqlState"/> inside, and nothing created.
    /// </summary>
    private static async Task RefusedAsync(
        NpgsqlDataSource dataSource,
        PostgreSqlForwardSyncTriggerOptions options,
        string sqlState,
        params string[] said
    )
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await PostgreSqlForwardSyncTrigger.CreateAsync(dataSource, options)
        );

        Assert.All(said, text => Assert.Contains(text, failure.Message, StringComparison.Ordinal));
        Assert.Equal(sqlState, Assert.IsType<PostgresException>(failure.InnerException).SqlState);
        Assert.Equal((0L, 0L), await CreatedAsync(dataSource));
    }

    /// <summary>A database of its own, so that no other test's trigger or function counts.</summary>
    private async Task<NpgsqlDataSource> DatabaseWithLegacyTableAsync()
    {
        NpgsqlDataSource dataSource = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await dataSource.ExecuteAsync("CREATE TABLE customers_v1 (id integer PRIMARY KEY, full_name text)");
        return dataSource;
    }

    private static PostgreSqlForwardSyncTriggerOptions Options(string? newStoreTable = null) =>
        new()
        {
            LegacyTable = "customers_v1",
            Migration = "LegacyCustomer->Customer",
            NewStoreTable = newStoreTable,
        };

    /// <summary>The triggers on the legacy table and the functions of the schema public, any at all.</summary>
    private static async Task<(long Triggers, long Functions)> CreatedAsync(NpgsqlDataSource dataSource) =>
        (
            await dataSource.ScalarAsync<long>(
                "SELECT count(*) FROM pg_catalog.pg_trigger "
                    + "WHERE tgrelid = 'customers_v1'::regclass AND NOT tgisinternal"
            ),
            await dataSource.ScalarAsync<long>(
                "SELECT count(*) FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
                    + "WHERE n.nspname = 'public'"
            )
        );
}
