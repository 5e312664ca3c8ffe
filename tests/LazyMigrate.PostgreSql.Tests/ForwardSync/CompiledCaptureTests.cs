using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.ForwardSync;

/// <summary>
/// What is the compiled capture's own (<see cref="PostgreSqlForwardSyncTriggerOptions.CompiledCapture"/>): the
/// triggers call it and switch to and from it, it records the key as the PL/pgSQL capture does, the writer needs the
/// same privileges, and what it cannot take is refused when the triggers are made, not when a legacy write runs. The
/// captures it makes, and a write-back's order, are tested with the PL/pgSQL ones
/// (<see cref="ForwardSyncTriggerTests"/>, <see cref="WriteBackOrderTests"/>, <see cref="WriteBackTransactionTests"/>).
/// </summary>
[Collection("postgres")]
public sealed class CompiledCaptureTests(PostgresServer server)
{
    private NpgsqlDataSource DataSource => server.DataSource;

    [Fact]
    public async Task TheTriggers_CallTheCompiledFunction_AndCreateAsyncSwitchesToItAndBack_EachOnce()
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource);
        var options = CapturingLegacyTables.TriggerOptions(legacy, outbox.Sql.Table.Table, compiled: true);

        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, options));
        Assert.False(await PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, options));
        Assert.Equal(["c", "c", "c"], await LanguagesAsync(legacy));

        options.CompiledCapture = false;
        Assert.True(await PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, options));
        Assert.False(await PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, options));
        Assert.Equal(["plpgsql", "plpgsql", "plpgsql"], await LanguagesAsync(legacy));
    }

    [Theory]
    [InlineData("text", "'a-1'", "a-1")]
    [InlineData("varchar(20)", "'b 2'", "b 2")]
    [InlineData("smallint", "-7", "-7")]
    [InlineData("integer", "2147483647", "2147483647")]
    [InlineData("bigint", "-9223372036854775808", "-9223372036854775808")]
    [InlineData("uuid", "'0F8FAD5B-D9CB-469F-A165-70867728950E'", "0f8fad5b-d9cb-469f-a165-70867728950e")]
    public async Task TheKeyItRecords_IsTheTextThePlPgSqlCaptureRecords_ForEveryKeyTypeItTakes(
        string keyType,
        string key,
        string captured
    )
    {
        PostgreSqlOutbox outbox = new(DataSource, await CapturingLegacyTables.OutboxAsync(DataSource));
        foreach (bool compiled in (bool[])[false, true])
        {
            string legacy = TestDatabase.UniqueTable("legacy");
            await DataSource.ExecuteAsync($"CREATE TABLE \"{legacy}\" (id {keyType} PRIMARY KEY, name text)");
            await PostgreSqlForwardSyncTrigger.CreateAsync(
                DataSource,
                CapturingLegacyTables.TriggerOptions(legacy, outbox.Sql.Table.Table, compiled)
            );

            await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, name) VALUES ({key}, 'x')");
            await DataSource.ExecuteAsync($"UPDATE \"{legacy}\" SET name = 'y'");
            await DataSource.ExecuteAsync($"DELETE FROM \"{legacy}\"");

            Assert.Equal(3L, await CapturingLegacyTables.CapturedAsync(outbox, captured));
            await DataSource.ExecuteAsync($"DELETE FROM {outbox.Sql.Captures.Table.Qualified}");
        }
    }

    [Fact]
    public async Task AKeyOfAnotherType_IsRefusedWhenTheTriggersAreMade_AndTheTableKeepsWhatItHad()
    {
        PostgreSqlOutbox outbox = new(DataSource, await CapturingLegacyTables.OutboxAsync(DataSource));
        string legacy = TestDatabase.UniqueTable("legacy");
        await DataSource.ExecuteAsync($"CREATE TABLE \"{legacy}\" (id numeric PRIMARY KEY, name text)");
        var options = CapturingLegacyTables.TriggerOptions(legacy, outbox.Sql.Table.Table);
        await PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, options);
        options.CompiledCapture = true;

        var refused = await Assert.ThrowsAsync<PostgresException>(() =>
            PostgreSqlForwardSyncTrigger.CreateAsync(DataSource, options).AsTask()
        );

        Assert.Equal(PostgresErrorCodes.FeatureNotSupported, refused.SqlState);
        Assert.Contains("compiled capture takes a key of", refused.MessageText, StringComparison.Ordinal);
        Assert.Equal(["plpgsql", "plpgsql", "plpgsql"], await LanguagesAsync(legacy));
        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, name) VALUES (1.5, 'x')");
        Assert.Equal(1L, await CapturingLegacyTables.CapturedAsync(outbox, "1.5"));
    }

    [Fact]
    public void TheNewStoresStaleMark_WithTheCompiledCapture_IsRefusedBeforeAnyDdl()
    {
        var options = CapturingLegacyTables.TriggerOptions("legacy", "outbox", compiled: true);
        options.NewStoreTable = "customers";

        var refused = Assert.Throws<ArgumentException>(() => PostgreSqlForwardSyncTrigger.CreateScript(options));

        Assert.Contains("NewStoreTable", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWriterWithoutInsertOnTheCaptures_IsRefused_AndWithItWrites_AsWithPlPgSql(bool compiled)
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource, compiled);
        string role = TestDatabase.UniqueTable("writer");
        string captures = outbox.Sql.Captures.Table.Qualified;
        await DataSource.ExecuteAsync(
            $"CREATE ROLE \"{role}\"; GRANT SELECT, INSERT, UPDATE ON \"{legacy}\" TO \"{role}\"; "
                + $"GRANT USAGE ON {PostgreSqlOutboxSchema.SequenceName(outbox.Sql.Table)} TO \"{role}\""
        );
        string insert = $"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES ($1, 'Ada', 1)";

        var refused = await Assert.ThrowsAsync<PostgresException>(() => AsRoleAsync(role, insert, 1));
        await DataSource.ExecuteAsync($"GRANT INSERT ON {captures} TO \"{role}\"");
        await AsRoleAsync(role, insert, 2);

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        Assert.Equal(
            (0L, 1L),
            (
                await CapturingLegacyTables.CapturedAsync(outbox, "1"),
                await CapturingLegacyTables.CapturedAsync(outbox, "2")
            )
        );
    }

    /// <summary>Runs <paramref name="sql"/> as <paramref name="role"/>, in a transaction of its own.</summary>
    private async Task AsRoleAsync(string role, string sql, int id)
    {
        await using NpgsqlConnection connection = await DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await using (var setRole = new NpgsqlCommand($"SET LOCAL ROLE \"{role}\"", connection, transaction))
        {
            await setRole.ExecuteNonQueryAsync();
        }

        await using (
            var write = new NpgsqlCommand(sql, connection, transaction) { Parameters = { new() { Value = id } } }
        )
        {
            await write.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    /// <summary>The languages of the functions the legacy table's triggers call.</summary>
    private async Task<string[]> LanguagesAsync(string legacy)
    {
        await using NpgsqlCommand command = DataSource.CreateCommand(
            "SELECT l.lanname FROM pg_trigger AS t JOIN pg_proc AS p ON p.oid = t.tgfoid "
                + "JOIN pg_language AS l ON l.oid = p.prolang WHERE t.tgrelid = $1::regclass AND NOT t.tgisinternal"
        );
        command.Parameters.Add(new() { Value = $"\"{legacy}\"" });
        var languages = new List<string>();
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            languages.Add(reader.GetString(0));
        }

        return [.. languages];
    }
}
