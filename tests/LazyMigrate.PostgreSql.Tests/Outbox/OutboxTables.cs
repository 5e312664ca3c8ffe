using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Outbox;

/// <summary>A fresh outbox table and a new store writing into it, per test, and what a test reads back.</summary>
internal static class OutboxTables
{
    /// <summary>The writer's clock in these tests: fixed, nowhere near the machine's.</summary>
    public static readonly DateTimeOffset T0 = new(2030, 6, 15, 12, 0, 0, TimeSpan.Zero);

    public static PostgreSqlOutboxOptions Options() =>
        new() { TableName = TestDatabase.UniqueTable("outbox"), CreateSchema = true };

    /// <summary>An outbox over a table of its own, created before the test's first statement.</summary>
    public static async Task<PostgreSqlOutbox> CreateOutboxAsync(NpgsqlDataSource dataSource)
    {
        PostgreSqlOutboxOptions options = Options();
        Assert.True(await PostgreSqlOutboxSchema.CreateAsync(dataSource, options));
        options.CreateSchema = false;
        return new PostgreSqlOutbox(dataSource, options);
    }

    public static PostgreSqlOutboxNewStore<Customer> Store(NpgsqlDataSource dataSource, PostgreSqlOutbox outbox) =>
        new(dataSource, outbox, TestDatabase.Options());

    public static OutboxIntent WriteBack(string migration, string id, int seconds = 0) =>
        new(migration, OutboxItemKind.WriteBack, id, null, T0.AddSeconds(seconds));

    public static OutboxIntent Migrated(string migration, string id) =>
        new(migration, OutboxItemKind.EntityMigrated, id, $$"""{"id":"{{id}}"}""", T0);

    /// <summary>The entity ids the outbox holds for a migration, sorted, with their versions.</summary>
    public static async Task<string[]> HeldAsync(this NpgsqlDataSource dataSource, PostgreSqlOutbox outbox)
    {
        var held = new List<string>();
        await using NpgsqlCommand command = dataSource.CreateCommand(
            $"SELECT entity_id || ':' || kind || ':v' || version FROM {outbox.TableName} ORDER BY 1"
        );
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            held.Add(reader.GetString(0));
        }

        return [.. held];
    }

    /// <summary>Rejects every outbox row of one entity id: the outbox half of a write fails, on the server.</summary>
    public static Task RejectAsync(this NpgsqlDataSource dataSource, PostgreSqlOutbox outbox, string entityId) =>
        dataSource.ExecuteAsync(
            $"ALTER TABLE {outbox.TableName} ADD CONSTRAINT no_poison CHECK (entity_id <> '{entityId}')"
        );
}
