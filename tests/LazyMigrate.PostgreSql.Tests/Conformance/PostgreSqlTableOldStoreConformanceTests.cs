using LazyMigrate.PostgreSql.Tests.Tables;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Conformance;

/// <summary>
/// The old-store contract, batched writes included, on <see cref="PostgreSqlTableOldStore{TOld}"/> over a legacy
/// table with typed columns, one fresh table per test, for each key type.
/// </summary>
public abstract class PostgreSqlTableOldStoreConformanceTests(PostgresServer server, PostgreSqlKeyType keyType)
    : BatchWritingOldStoreConformanceTests<LegacyCustomer>
{
    public override LegacyCustomer Create(string id, int version) => LegacyCustomer.Create(id, version);

    public override int VersionOf(LegacyCustomer entity) => entity.Version;

    protected override async Task<IBatchWritingOldStore<LegacyCustomer>> CreateBatchStoreAsync() =>
        await LegacyTables.CustomerStoreAsync(server.DataSource, keyType);
}

[Collection("postgres")]
public sealed class PostgreSqlTableOldStoreIntegerKeyConformanceTests(PostgresServer server)
    : PostgreSqlTableOldStoreConformanceTests(server, PostgreSqlKeyType.Integer)
{
    protected override ConformanceIds Ids => ConformanceIds.Integer;
}

[Collection("postgres")]
public sealed class PostgreSqlTableOldStoreBigIntKeyConformanceTests(PostgresServer server)
    : PostgreSqlTableOldStoreConformanceTests(server, PostgreSqlKeyType.BigInt)
{
    protected override ConformanceIds Ids => ConformanceIds.Integer;
}

[Collection("postgres")]
public sealed class PostgreSqlTableOldStoreUuidKeyConformanceTests(PostgresServer server)
    : PostgreSqlTableOldStoreConformanceTests(server, PostgreSqlKeyType.Uuid)
{
    protected override ConformanceIds Ids => ConformanceIds.Uuid;
}

/// <summary>A text key in the "C" collation, so that its order is the ordinal order the suite expects.</summary>
[Collection("postgres")]
public sealed class PostgreSqlTableOldStoreTextKeyConformanceTests(PostgresServer server)
    : PostgreSqlTableOldStoreConformanceTests(server, PostgreSqlKeyType.Text);
