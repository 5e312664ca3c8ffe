using System.Collections.Concurrent;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Backfill;

/// <summary>
/// The tables a backfill crash test shares with its children (tests/LazyMigrate.CrashHost, <c>backfill</c>), seeded
/// with legacy customers, and the instance in this process: the same migration over the same tables (so the same
/// event ids), whose API writers run beside the children and whose dispatcher drains what they left. An audit
/// trigger records every event item the outbox is given, since delivered items are deleted.
/// </summary>
internal sealed class BackfillCrashSite : IAsyncDisposable
{
    /// <summary>The lease of the children's backfill cursor and outbox claims, in seconds.</summary>
    public const int ChildLeaseSeconds = 3;

    private readonly PostgresServer _server;
    private readonly ServiceProvider _provider;
    private readonly string _old = TestDatabase.UniqueTable("bf_old");
    private readonly string _new = TestDatabase.UniqueTable("bf_new");
    private readonly string _outbox = TestDatabase.UniqueTable("bf_outbox");
    private readonly string _checkpoints = TestDatabase.UniqueTable("bf_ckpt");
    private readonly string _quarantine = TestDatabase.UniqueTable("bf_quar");
    private readonly string _audit = TestDatabase.UniqueTable("bf_audit");

    private BackfillCrashSite(PostgresServer server, IReadOnlyList<string> ids)
    {
        _server = server;
        Ids = ids;
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Clock);
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlOldStore(o => o.TableName = _old, server.DataSource)
            .UsePostgreSqlOutbox(o => o.TableName = _outbox)
            .UsePostgreSqlNewStore(o => o.TableName = _new, server.DataSource)
            .UsePostgreSqlAdvisoryLock(dataSource: server.LockDataSource)
            .OnMigrated(
                (migrated, _) =>
                {
                    Delivered.Enqueue((migrated.EntityId, migrated.EventId));
                    return ValueTask.CompletedTask;
                }
            )
            .ConfigureOutbox(o => o.DispatchOnWrite = false);
        _provider = services.BuildServiceProvider();
        Repository = _provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        Dispatcher = _provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();
    }

    /// <summary>The legacy customers' ids, in the scan's order.</summary>
    public IReadOnlyList<string> Ids { get; }

    /// <summary>Starts at the machine's time, which the children's leases are stamped with.</summary>
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public IMigratingRepository<LegacyCustomer, Customer> Repository { get; }

    public IMigrationDispatcher<LegacyCustomer, Customer> Dispatcher { get; }

    /// <summary>Every event this process's dispatcher delivered.</summary>
    public ConcurrentQueue<(string Id, Guid EventId)> Delivered { get; } = new();

    /// <summary>Creates every table and the audit trigger; seeds <paramref name="entities"/> customers.</summary>
    public static async Task<BackfillCrashSite> CreateAsync(PostgresServer server, int entities)
    {
        string[] ids = Enumerable.Range(0, entities).Select(i => $"c-{i:D6}").ToArray();
        var site = new BackfillCrashSite(server, ids);
        NpgsqlDataSource data = server.DataSource;
        await PostgreSqlDocumentStoreSchema.CreateAsync<LegacyCustomer>(data, new() { TableName = site._old });
        await PostgreSqlDocumentStoreSchema.CreateAsync<Customer>(data, new() { TableName = site._new });
        await PostgreSqlOutboxSchema.CreateAsync(data, new() { TableName = site._outbox });
        await PostgreSqlBackfillSchema.CreateAsync(
            data,
            new() { TableName = site._checkpoints, QuarantineTableName = site._quarantine }
        );

        // An item recorded again while pending coalesces into an update of its version: that counts as a record too.
        await data.ExecuteAsync(
            $"""
            CREATE TABLE {site._audit} (entity_id text NOT NULL);
            CREATE FUNCTION {site._audit}_record() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO {site._audit} VALUES (NEW.entity_id); RETURN NULL; END $$;
            CREATE TRIGGER {site._audit}_insert AFTER INSERT ON {site._outbox}
                FOR EACH ROW WHEN (NEW.kind = {(short)OutboxItemKind.EntityMigrated})
                EXECUTE FUNCTION {site._audit}_record();
            CREATE TRIGGER {site._audit}_update AFTER UPDATE OF version ON {site._outbox}
                FOR EACH ROW WHEN (NEW.kind = {(short)OutboxItemKind.EntityMigrated} AND NEW.version <> OLD.version)
                EXECUTE FUNCTION {site._audit}_record();
            """
        );
        await data.ExecuteAsync(
            $"""
            INSERT INTO {site._old} (id, payload)
            SELECT id, jsonb_build_object('id', id, 'fullName', 'First1 Last1', 'version', 1)
            FROM unnest($1::text[]) AS id
            """,
            (object)ids
        );
        return site;
    }

    /// <summary>Starts a child that runs the backfill as instance <paramref name="instance"/>.</summary>
    public CrashHostProcess StartChild(string instance, int batchSize = 500) =>
        CrashHostProcess.Start(
            "backfill",
            [
                $"connection={_server.ConnectionString}",
                $"old={_old}",
                $"new={_new}",
                $"outbox={_outbox}",
                $"checkpoints={_checkpoints}",
                $"quarantine={_quarantine}",
                $"instance={instance}",
                $"batch-size={batchSize}",
                $"lease-seconds={ChildLeaseSeconds}",
            ]
        );

    /// <summary>How many times the outbox was given an event item for each id.</summary>
    public async Task<Dictionary<string, long>> EventRecordsAsync() =>
        await ReadAsync($"SELECT entity_id, count(*) FROM {_audit} GROUP BY entity_id", r => r.GetInt64(1));

    /// <summary>The new store's rows: the version each holds, or <see langword="null"/> for a tombstone.</summary>
    public async Task<Dictionary<string, int?>> NewRowsAsync() =>
        await ReadAsync(
            $"SELECT id, CASE WHEN deleted THEN NULL ELSE (payload->>'version')::int END FROM {_new}",
            r => r.IsDBNull(1) ? (int?)null : r.GetInt32(1)
        );

    public async Task<long> OutboxRowsAsync() =>
        await _server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM {_outbox}");

    public async Task<bool> CheckpointCompleteAsync() =>
        await _server.DataSource.ScalarAsync<bool>($"SELECT bool_and(is_complete) FROM {_checkpoints}");

    /// <summary>Moves the clock past the dead children's outbox claims and drains the outbox.</summary>
    public async Task DrainAfterTheChildrensLeasesAsync()
    {
        Clock.SetUtcNow(DateTimeOffset.UtcNow + TimeSpan.FromSeconds(ChildLeaseSeconds + 1));
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Dispatcher.DrainAsync(bound.Token);
    }

    public ValueTask DisposeAsync() => _provider.DisposeAsync();

    private async Task<Dictionary<string, T>> ReadAsync<T>(string sql, Func<NpgsqlDataReader, T> value)
    {
        await using NpgsqlCommand command = _server.DataSource.CreateCommand(sql);
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, T>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0), value(reader));
        }

        return rows;
    }
}
