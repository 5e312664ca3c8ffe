using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Conformance;

/// <summary>The lock contract on <see cref="PostgreSqlAdvisoryLockProvider"/>; a lock is lost by terminating its backend.</summary>
[Collection("postgres")]
public sealed class PostgreSqlAdvisoryLockConformanceTests(PostgresServer server) : LockConformanceTests
{
    protected override Task<IMigrationLockProvider> CreateProviderAsync() =>
        Task.FromResult<IMigrationLockProvider>(new PostgreSqlAdvisoryLockProvider(server.DataSource));

    protected override async Task LoseAsync(string key, IMigrationLockHandle handle) =>
        Assert.Equal(1, await server.DataSource.TerminateLockHolderAsync(key));
}
