using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Conformance;

/// <summary>
/// The library's invariants (docs/design.md) with PostgreSQL old and new stores and PostgreSQL advisory locks.
/// </summary>
[Collection("postgres")]
public sealed class PostgreSqlRepositoryInvariantTests(PostgresServer server) : RepositoryInvariantTests
{
    protected override Task<IOldStore<LegacyCustomer>> CreateOldStoreAsync() =>
        Task.FromResult<IOldStore<LegacyCustomer>>(
            new PostgreSqlOldStore<LegacyCustomer>(server.DataSource, TestDatabase.Options())
        );

    protected override Task<INewStore<Customer>> CreateNewStoreAsync() =>
        Task.FromResult<INewStore<Customer>>(
            new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options())
        );

    protected override Task<IMigrationLockProvider> CreateLockProviderAsync() =>
        Task.FromResult<IMigrationLockProvider>(new PostgreSqlAdvisoryLockProvider(server.DataSource));

    protected override async Task LoseLockAsync(string key) =>
        Assert.Equal(1, await server.DataSource.TerminateLockHolderAsync(key));
}
