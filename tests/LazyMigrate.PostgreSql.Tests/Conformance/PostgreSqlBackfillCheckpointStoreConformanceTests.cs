using LazyMigrate.Backfill;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Conformance;

/// <summary>
/// The checkpoint store suite on <see cref="PostgreSqlBackfillCheckpointStore"/>: tables created by the store itself
/// (<see cref="PostgreSqlBackfillCheckpointOptions.CreateSchema"/>) in a schema of their own, and another instance over
/// a data source of its own.
/// </summary>
[Collection("postgres")]
public sealed class PostgreSqlBackfillCheckpointStoreConformanceTests(PostgresServer server)
    : BackfillCheckpointStoreConformanceTests,
        IAsyncLifetime
{
    private readonly PostgreSqlBackfillCheckpointOptions _options = new()
    {
        Schema = "backfill_conformance",
        CreateSchema = true,
    };
    private NpgsqlDataSource? _otherInstance;

    public Task InitializeAsync()
    {
        _otherInstance = NpgsqlDataSource.Create(server.ConnectionString);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_otherInstance is not null)
        {
            await _otherInstance.DisposeAsync();
        }
    }

    protected override Task<IBackfillCheckpointStore> CreateStoreAsync() =>
        Task.FromResult<IBackfillCheckpointStore>(new PostgreSqlBackfillCheckpointStore(server.DataSource, _options));

    protected override Task<IBackfillCheckpointStore> AnotherInstanceAsync(IBackfillCheckpointStore store) =>
        Task.FromResult<IBackfillCheckpointStore>(new PostgreSqlBackfillCheckpointStore(_otherInstance!, _options));
}
