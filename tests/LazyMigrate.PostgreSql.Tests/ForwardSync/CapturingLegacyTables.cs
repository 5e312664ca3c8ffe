using LazyMigrate.Outbox;
using LazyMigrate.PostgreSql.Tests.Outbox;
using LazyMigrate.PostgreSql.Tests.Tables;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.ForwardSync;

/// <summary>
/// A legacy table with typed columns under the forward sync capture trigger, and an outbox of its own: what the
/// trigger's tests write through the old API and read back as captures and items.
/// </summary>
internal static class CapturingLegacyTables
{
    public const string Migration = "LegacyCustomer->Customer";

    /// <summary>
    /// A new legacy customers table with an integer key, the trigger on it (the compiled capture if
    /// <paramref name="compiled"/>) and a new outbox.
    /// </summary>
    public static async Task<(string Legacy, PostgreSqlOutbox Outbox)> CreateAsync(
        NpgsqlDataSource dataSource,
        bool compiled
    )
    {
        string legacy = await LegacyTables.CreateCustomersAsync(dataSource, PostgreSqlKeyType.Integer);
        return await TriggerAsync(dataSource, legacy, "id", compiled);
    }

    /// <summary>The trigger on <paramref name="legacy"/>, recording into a new outbox.</summary>
    public static async Task<(string Legacy, PostgreSqlOutbox Outbox)> TriggerAsync(
        NpgsqlDataSource dataSource,
        string legacy,
        string keyColumn,
        bool compiled
    )
    {
        PostgreSqlOutboxOptions outboxOptions = await OutboxAsync(dataSource);
        PostgreSqlForwardSyncTriggerOptions options = TriggerOptions(legacy, outboxOptions.TableName, compiled);
        options.KeyColumn = keyColumn;
        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(dataSource, options));
        return (legacy, new PostgreSqlOutbox(dataSource, outboxOptions));
    }

    /// <summary>A new outbox, created (with its captures table), and options that create nothing more.</summary>
    public static async Task<PostgreSqlOutboxOptions> OutboxAsync(NpgsqlDataSource dataSource)
    {
        PostgreSqlOutboxOptions options = OutboxTables.Options();
        await PostgreSqlOutboxSchema.CreateAsync(dataSource, options);
        options.CreateSchema = false;
        return options;
    }

    public static PostgreSqlForwardSyncTriggerOptions TriggerOptions(
        string legacy,
        string outboxTable,
        bool compiled
    ) =>
        new()
        {
            LegacyTable = legacy,
            Migration = Migration,
            OutboxTable = outboxTable,
            CompiledCapture = compiled,
        };

    /// <summary>The captures of the ids not folded into items yet.</summary>
    public static Task<long> CapturedAsync(PostgreSqlOutbox outbox, params string[] ids) =>
        outbox.DataSource.ScalarAsync<long>(
            $"SELECT count(*) FROM {outbox.Sql.Captures.Table.Qualified} WHERE entity_id = ANY($1)",
            [ids]
        );

    /// <summary>The forward syncs of the ids the outbox knows of, items and captures alike.</summary>
    public static async Task<IReadOnlyList<OutboxItem>> ForwardSyncsAsync(
        PostgreSqlOutbox outbox,
        params string[] ids
    ) => [.. (await outbox.FindAsync(Migration, ids)).Where(i => i.Kind == OutboxItemKind.ForwardSync)];
}
