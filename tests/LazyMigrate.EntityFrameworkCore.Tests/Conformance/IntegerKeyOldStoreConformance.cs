using System.Globalization;
using LazyMigrate.EntityFrameworkCore.Tests.Legacy;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.EntityFrameworkCore.Tests.Conformance;

/// <summary>
/// The old-store conformance suite, batched writes included, over a legacy relational table with an integer key
/// (serial on PostgreSQL), created by raw SQL with a column the model does not map: ids are numbers and scan in
/// numeric order.
/// </summary>
public abstract class IntegerKeyOldStoreConformance(TestDatabase database)
    : BatchWritingOldStoreConformanceTests<LegacyContact>,
        IAsyncLifetime
{
    protected override ConformanceIds Ids => ConformanceIds.Integer;

    public override LegacyContact Create(string id, int version) =>
        new()
        {
            Id = int.Parse(id, CultureInfo.InvariantCulture),
            FullName = $"First{version} Last{version}",
            Version = version,
        };

    public override int VersionOf(LegacyContact entity) => entity.Version;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => database.DisposeAsync().AsTask();

    // A small page, so the 1,200-entity scan crosses many page boundaries.
    protected override async Task<IBatchWritingOldStore<LegacyContact>> CreateBatchStoreAsync() =>
        new EntityFrameworkCoreOldStore<LegacyDb, LegacyContact, int>(
            await LegacyTable.CreateAsync(database),
            db => db.Customers,
            c => c.Id,
            new() { ScanPageSize = 100 }
        );
}

public sealed class SqliteIntegerKeyOldStoreConformanceTests()
    : IntegerKeyOldStoreConformance(new SqliteFiles(writeAheadLog: false));

[Collection("postgres")]
public sealed class PostgresIntegerKeyOldStoreConformanceTests(PostgresServer server)
    : IntegerKeyOldStoreConformance(new PostgresDatabases(server));
