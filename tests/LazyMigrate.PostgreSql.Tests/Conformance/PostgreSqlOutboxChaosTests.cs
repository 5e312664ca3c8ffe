using LazyMigrate.Outbox;
using LazyMigrate.PostgreSql.Tests.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Conformance;

/// <summary>
/// The outbox chaos suite over a PostgreSQL old table, new store, advisory locks and outbox: the dispatchers of every
/// instance claim from one outbox table. The chaos wrapper of the outbox makes the core record each intent before the
/// write (the atomic path, the intent in the upsert's statement, has its own tests: OutboxEndToEndTests).
/// </summary>
[Collection("postgres")]
public sealed class PostgreSqlOutboxChaosTests(PostgresServer server) : OutboxChaosTests
{
    protected override Task<IOldStore<LegacyCustomer>> CreateOldStoreAsync() =>
        Task.FromResult<IOldStore<LegacyCustomer>>(
            new PostgreSqlOldStore<LegacyCustomer>(server.DataSource, TestDatabase.Options())
        );

    protected override Task<INewStore<Customer>> CreateNewStoreAsync() =>
        Task.FromResult<INewStore<Customer>>(
            new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options())
        );

    protected override async Task<IMigrationOutbox> CreateOutboxAsync() =>
        await OutboxTables.CreateOutboxAsync(server.DataSource);

    protected override Task<IMigrationLockProvider> CreateLockProviderAsync() =>
        Task.FromResult<IMigrationLockProvider>(new PostgreSqlAdvisoryLockProvider(server.LockDataSource));
}
