using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Conformance;

/// <summary>
/// The new-store contract on <see cref="PostgreSqlNewStore{TNew}"/>, each test on a table of its own.
/// </summary>
[Collection("postgres")]
public sealed class PostgreSqlNewStoreConformanceTests(PostgresServer server) : NewStoreConformanceTests<Customer>
{
    public override Customer Create(string id, int version) => Customer.Create(id, version);

    public override int VersionOf(Customer entity) => entity.Version;

    protected override Task<INewStore<Customer>> CreateStoreAsync() =>
        Task.FromResult<INewStore<Customer>>(
            new PostgreSqlNewStore<Customer>(server.DataSource, TestDatabase.Options())
        );
}
