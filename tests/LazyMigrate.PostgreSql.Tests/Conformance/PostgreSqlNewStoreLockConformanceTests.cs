using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Conformance;

/// <summary>
/// The new-store lock contract on <see cref="PostgreSqlNewStore{TNew}"/>, each test on a table of its own; another
/// instance is another store over the same table, and a waiter shows in <c>pg_locks</c> as an advisory lock not
/// granted.
/// </summary>
[Collection("postgres")]
public sealed class PostgreSqlNewStoreLockConformanceTests(PostgresServer server)
    : NewStoreLockConformanceTests<Customer>
{
    public override Customer Create(string id, int version) => Customer.Create(id, version);

    public override int VersionOf(Customer entity) => entity.Version;

    protected override Task<ILockingNewStore<Customer>> CreateStoreAsync() =>
        Task.FromResult<ILockingNewStore<Customer>>(
            new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options())
        );

    protected override Task<ILockingNewStore<Customer>> AnotherInstanceAsync(ILockingNewStore<Customer> store) =>
        Task.FromResult<ILockingNewStore<Customer>>(
            new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options(TableOf(store)))
        );

    protected override Task WaitUntilWaitingAsync(ILockingNewStore<Customer> store, string id) =>
        AdvisoryLockWaiters.UntilWaitedForAsync(server.DataSource, ((PostgreSqlNewStore<Customer>)store).LockKey(id));

    private static string TableOf(ILockingNewStore<Customer> store) =>
        ((PostgreSqlNewStore<Customer>)store).TableName.Split('.')[1].Trim('"');
}
