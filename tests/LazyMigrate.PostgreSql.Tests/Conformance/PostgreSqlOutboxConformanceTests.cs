using LazyMigrate.Outbox;
using LazyMigrate.PostgreSql.Tests.Outbox;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Conformance;

/// <summary>
/// The outbox suite on <see cref="PostgreSqlOutbox"/>: one table for the whole class (each test works in a migration of
/// its own), and another instance as another service would open it, over a data source of its own.
/// </summary>
[Collection("postgres")]
public sealed class PostgreSqlOutboxConformanceTests(PostgresServer server) : OutboxConformanceTests, IAsyncLifetime
{
    private readonly PostgreSqlOutboxOptions _options = OutboxTables.Options();
    private NpgsqlDataSource? _otherInstance;

    public async Task InitializeAsync()
    {
        await PostgreSqlOutboxSchema.CreateAsync(server.DataSource, _options);
        _otherInstance = NpgsqlDataSource.Create(server.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_otherInstance is not null)
        {
            await _otherInstance.DisposeAsync();
        }
    }

    protected override Task<IMigrationOutbox> CreateOutboxAsync() =>
        Task.FromResult<IMigrationOutbox>(new PostgreSqlOutbox(server.DataSource, _options));

    protected override Task<IMigrationOutbox> AnotherInstanceAsync(IMigrationOutbox outbox) =>
        Task.FromResult<IMigrationOutbox>(new PostgreSqlOutbox(_otherInstance!, _options));
}
