using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Conformance;

/// <summary>
/// The old-store contract, batched writes included, on <see cref="PostgreSqlOldStore{TOld}"/>, each test on a
/// table of its own.
/// </summary>
[Collection("postgres")]
public sealed class PostgreSqlOldStoreConformanceTests(PostgresServer server)
    : BatchWritingOldStoreConformanceTests<LegacyCustomer>
{
    public override LegacyCustomer Create(string id, int version) => LegacyCustomer.Create(id, version);

    public override int VersionOf(LegacyCustomer entity) => entity.Version;

    protected override Task<IBatchWritingOldStore<LegacyCustomer>> CreateBatchStoreAsync() =>
        Task.FromResult<IBatchWritingOldStore<LegacyCustomer>>(
            new PostgreSqlOldStore<LegacyCustomer>(server.DataSource, TestDatabase.Options())
        );
}
