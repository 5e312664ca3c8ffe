using LazyMigrate.TestKit;
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
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource, compiled: false);
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
        var options = CapturingLegacyTables.TriggerOptions(legacy, outbox.Sql.Table.Table, compiled: false);
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
    public async Task AWriterWithoutInsertOnTheCaptures_IsRefused_AndWithItWrites_AsWithPlPgSql(bool compiled) =>
        await RefusedThenAllowedAsync(compiled, "INSERT");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWriterWithInsertOnTheColumnsThePlPgSqlCaptureNames_Writes_AsWithPlPgSql(bool compiled) =>
        await RefusedThenAllowedAsync(compiled, "INSERT (migration, entity_id)");

    /// <summary>
    /// A role with what the legacy application needs but the captures: its write refused; then
    /// <paramref name="grant"/> on the captures table, and its write captured.
    /// </summary>
    private async Task RefusedThenAllowedAsync(bool compiled, string grant)
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
        await DataSource.ExecuteAsync($"GRANT {grant} ON {captures} TO \"{role}\"");
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

    [Theory]
    [InlineData("pg_catalog.pg_reload_conf()", "is not a PL/pgSQL trigger function")]
    [InlineData("pg_catalog.textlen(text)", "is not a PL/pgSQL trigger function")]
    [InlineData("{compiled}", "is not a PL/pgSQL trigger function")]
    public async Task ATriggerWhoseWriteBackFunctionIsNotAPlPgSqlTriggerFunction_FailsTheWrite_AndTheServerGoesOn(
        string function,
        string refusal
    )
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource, compiled: true);
        await AttachAsync(legacy, outbox, "id", outbox.Sql.Captures.Table.Qualified, function);

        var refused = await Assert.ThrowsAsync<PostgresException>(() =>
            WriteBackAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1)")
        );

        Assert.Contains(refusal, refused.MessageText, StringComparison.Ordinal);
        Assert.Equal(1, await DataSource.ScalarAsync<int>("SELECT 1"));
    }

    [Theory]
    [InlineData("ctid", "has no key column")]
    [InlineData("no_such_column", "has no key column")]
    public async Task ATriggerWithASystemOrMissingKeyColumn_FailsTheWrite_NamingIt(string key, string refusal)
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource, compiled: true);
        await AttachAsync(legacy, outbox, key, outbox.Sql.Captures.Table.Qualified, null);

        string refused = await RefusedInsertAsync(legacy, 1);

        Assert.Contains(refusal, refused, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATriggerWhoseCapturesArgumentIsAView_FailsTheWrite_AndWritesNothing()
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource, compiled: true);
        string view = TestDatabase.UniqueTable("view");
        await DataSource.ExecuteAsync($"CREATE VIEW \"{view}\" AS SELECT * FROM {outbox.Sql.Captures.Table.Qualified}");
        await AttachAsync(legacy, outbox, "id", $"\"{view}\"", null);

        string refused = await RefusedInsertAsync(legacy, 1);

        Assert.Contains("is not a plain table", refused, StringComparison.Ordinal);
        Assert.Equal(0L, await CapturingLegacyTables.CapturedAsync(outbox, "1"));
    }

    [Fact]
    public async Task TheCapturesTableAlteredWhileALegacyWriteWaits_IsReadAsItIsWhenTheWriteCaptures()
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource, compiled: true);
        string captures = outbox.Sql.Captures.Table.Qualified;
        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1)");
        await using NpgsqlConnection holder = await DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction held = await holder.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand($"SELECT FROM \"{legacy}\" WHERE id = 1 FOR UPDATE", holder))
        {
            await lockRow.ExecuteNonQueryAsync();
        }

        int holderPid = holder.ProcessID;
        // The writer's session captured before, then its delete waits for the row before its first capture.
        await using NpgsqlConnection writer = await DataSource.OpenConnectionAsync();
        await using (
            var warm = new NpgsqlCommand(
                $"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (2, 'Grace', 1)",
                writer
            )
        )
        {
            await warm.ExecuteNonQueryAsync();
        }

        await using var delete = new NpgsqlCommand($"DELETE FROM \"{legacy}\" WHERE id = 1", writer);
        Task<int> deleting = delete.ExecuteNonQueryAsync();
        await Eventually.TrueAsync(() => WriteBackOrderTests.BlockedByAsync(DataSource, holderPid));

        // A column added and dropped meanwhile: the table now has a dropped attribute the write must leave NULL.
        await DataSource.ExecuteAsync(
            $"ALTER TABLE {captures} ADD COLUMN extra int; ALTER TABLE {captures} DROP COLUMN extra"
        );
        await held.CommitAsync();

        // The insert's capture and the delete's.
        Assert.Equal(1, await deleting);
        Assert.Equal(2L, await CapturingLegacyTables.CapturedAsync(outbox, "1"));
    }

    [Fact]
    public async Task TheCapturesTableReCreated_IsFoundByName_BySessionsThatCapturedBefore()
    {
        await using NpgsqlDataSource single = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(server.ConnectionString) { MaxPoolSize = 1 }.ConnectionString
        );
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(single, compiled: true);
        await single.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (1, 'Ada', 1)");

        await single.ExecuteAsync(
            $"DROP TABLE {outbox.Sql.Captures.Table.Qualified}; {PostgreSqlOutboxSchema.CreateScript(outbox.Sql.Table)}"
        );
        await single.ExecuteAsync($"UPDATE \"{legacy}\" SET version = 2 WHERE id = 1");

        Assert.Equal(1L, await CapturingLegacyTables.CapturedAsync(outbox, "1"));
    }

    [Theory]
    [InlineData("ADD COLUMN extra int", "its columns are not the outbox's")]
    [InlineData("ADD CONSTRAINT short CHECK (length(entity_id) < 2)", "it has a check constraint")]
    [InlineData("ENABLE ROW LEVEL SECURITY", "it has a trigger, a rule or row security")]
    public async Task ACapturesTableAlteredBeyondWhatItWrites_FailsTheWrite_SayingWhy(string alter, string refusal)
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource, compiled: true);
        await DataSource.ExecuteAsync($"ALTER TABLE {outbox.Sql.Captures.Table.Qualified} {alter}");

        string refused = await RefusedInsertAsync(legacy, 10);

        Assert.Contains(refusal, refused, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATriggerAddedToTheCapturesTableAndDroppedAgain_LeavesItWritable()
    {
        var (legacy, outbox) = await CapturingLegacyTables.CreateAsync(DataSource, compiled: true);
        string captures = outbox.Sql.Captures.Table.Qualified;
        string function = TestDatabase.UniqueTable("noop");
        await DataSource.ExecuteAsync(
            $"CREATE FUNCTION \"{function}\"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$; "
                + $"CREATE TRIGGER passing AFTER INSERT ON {captures} FOR EACH ROW EXECUTE FUNCTION \"{function}\"()"
        );
        Assert.Contains("it has a trigger", await RefusedInsertAsync(legacy, 1), StringComparison.Ordinal);

        // PostgreSQL keeps the table's "has triggers" flag until a vacuum: what counts is the triggers it has.
        await DataSource.ExecuteAsync($"DROP TRIGGER passing ON {captures}");
        await DataSource.ExecuteAsync($"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES (2, 'Ada', 1)");

        Assert.Equal(1L, await CapturingLegacyTables.CapturedAsync(outbox, "2"));
    }

    [Fact]
    public async Task TheCompiledFunction_IsRevokedFromPublic_SoNoOtherTableOwnerAttachesIt()
    {
        var (legacy, _) = await CapturingLegacyTables.CreateAsync(DataSource, compiled: true);
        string role = TestDatabase.UniqueTable("owner");
        string table = TestDatabase.UniqueTable("theirs");
        await DataSource.ExecuteAsync(
            $"CREATE ROLE \"{role}\"; CREATE TABLE \"{table}\" (id int); ALTER TABLE \"{table}\" OWNER TO \"{role}\""
        );

        var refused = await Assert.ThrowsAsync<PostgresException>(() =>
            AsRoleAsync(
                role,
                $"CREATE TRIGGER t AFTER INSERT ON \"{table}\" FOR EACH ROW "
                    + $"EXECUTE FUNCTION {CompiledFunction(legacy)}()",
                id: null
            )
        );

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }

    /// <summary>The functions the script made for <paramref name="legacy"/>'s triggers.</summary>
    private static TriggerTarget Functions(string legacy) =>
        TriggerTarget.Of(CapturingLegacyTables.TriggerOptions(legacy, "outbox", compiled: true));

    private static string CompiledFunction(string legacy) => Functions(legacy).CompiledFunction!;

    /// <summary>
    /// A trigger of the compiled capture on inserts into <paramref name="legacy"/> made by hand, with the arguments
    /// given (<paramref name="writeBack"/> <see langword="null"/> for the table's own PL/pgSQL function,
    /// <c>{compiled}</c> for the compiled function itself), as a table's owner could make one.
    /// </summary>
    private async Task AttachAsync(
        string legacy,
        PostgreSqlOutbox outbox,
        string key,
        string captures,
        string? writeBack
    )
    {
        string function = writeBack switch
        {
            null => $"{Functions(legacy).NewRowFunction}()",
            "{compiled}" => $"{CompiledFunction(legacy)}()",
            _ => writeBack,
        };
        string[] arguments =
        [
            CapturingLegacyTables.Migration,
            "NEW",
            key,
            captures,
            PostgreSqlOutboxSchema.SequenceName(outbox.Sql.Table),
            function,
        ];
        await DataSource.ExecuteAsync(
            $"DROP TRIGGER lazymigrate_forward_sync_insert ON \"{legacy}\"; CREATE TRIGGER by_hand AFTER INSERT ON "
                + $"\"{legacy}\" FOR EACH ROW EXECUTE FUNCTION {CompiledFunction(legacy)}("
                + string.Join(", ", arguments.Select(a => "'" + a.Replace("'", "''", StringComparison.Ordinal) + "'"))
                + ")"
        );
    }

    /// <summary>An insert of row <paramref name="id"/> into <paramref name="legacy"/> that must fail: why.</summary>
    private async Task<string> RefusedInsertAsync(string legacy, int id)
    {
        string insert = $"INSERT INTO \"{legacy}\" (id, full_name, version) VALUES ({id}, 'Ada', 1)";
        var refused = await Assert.ThrowsAsync<PostgresException>(() => DataSource.ExecuteAsync(insert));
        return refused.MessageText;
    }

    /// <summary>Runs <paramref name="sql"/> in a transaction that carries LazyMigrate's write-back mark.</summary>
    private async Task WriteBackAsync(string sql)
    {
        await using NpgsqlConnection connection = await DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await using var write = new NpgsqlCommand(
            $"SELECT set_config('lazymigrate.write_back', 'on', true); {sql}",
            connection,
            transaction
        );
        await write.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }

    /// <summary>
    /// Runs <paramref name="sql"/> as <paramref name="role"/>, in a transaction of its own, with <paramref name="id"/>
    /// as <c>$1</c> if given.
    /// </summary>
    private async Task AsRoleAsync(string role, string sql, int? id)
    {
        await using NpgsqlConnection connection = await DataSource.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await using (var setRole = new NpgsqlCommand($"SET LOCAL ROLE \"{role}\"", connection, transaction))
        {
            await setRole.ExecuteNonQueryAsync();
        }

        await using (var write = new NpgsqlCommand(sql, connection, transaction))
        {
            if (id is { } value)
            {
                write.Parameters.Add(new() { Value = value });
            }

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
