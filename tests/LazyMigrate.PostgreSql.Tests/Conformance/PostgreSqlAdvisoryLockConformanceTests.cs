using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Conformance;

/// <summary>
/// The lock contract, batches included, on <see cref="PostgreSqlAdvisoryLockProvider"/>; a lock is lost by terminating
/// its backend.
/// </summary>
[Collection("postgres")]
public sealed class PostgreSqlAdvisoryLockConformanceTests(PostgresServer server) : BatchLockConformanceTests
{
    protected override Task<IMigrationBatchLockProvider> CreateBatchProviderAsync() =>
        Task.FromResult<IMigrationBatchLockProvider>(new PostgreSqlAdvisoryLockProvider(server.DataSource));

    protected override async Task LoseAsync(string key, IMigrationLockHandle handle) =>
        Assert.Equal(1, await server.DataSource.TerminateLockHolderAsync(key));
}
