using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Conformance;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// The DDL script: what it creates, that it is idempotent, that <c>CreateSchema</c> runs it, and that
/// docs/postgresql.sql is it.
/// </summary>
[Collection("postgres")]
public sealed class SchemaTests(PostgresServer server)
{
    [Fact]
    public async Task Script_CreatesTheDocumentedColumns_WithIdInCCollation()
    {
        string table = TestDatabase.UniqueTable();

        await server.DataSource.ExecuteAsync(PostgreSqlDocumentStoreSchema.CreateScript("public", table));

        await using NpgsqlCommand command = server.DataSource.CreateCommand(
            "SELECT column_name, data_type, is_nullable, coalesce(collation_name, '') FROM information_schema.columns "
                + "WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position"
        );
        command.Parameters.Add(new NpgsqlParameter { Value = table });
        var columns = new List<string>();
        await using (NpgsqlDataReader reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                columns.Add(
                    $"{reader.GetString(0)} {reader.GetString(1)} {reader.GetString(2)} {reader.GetString(3)}".TrimEnd()
                );
            }
        }

        Assert.Equal(
            [
                "id text NO C",
                "payload jsonb YES",
                "deleted boolean NO",
                "updated_at timestamp with time zone NO",
                "stale boolean NO",
                "writeback_pending bigint YES",
                "writeback_pending_since timestamp with time zone YES",
            ],
            columns
        );
        Assert.Equal(
            "id",
            await server.DataSource.ScalarAsync<string>(
                "SELECT a.attname::text FROM pg_index i "
                    + "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                    + "WHERE i.indrelid = to_regclass($1) AND i.indisprimary",
                $"public.{table}"
            )
        );
    }

    [Fact]
    public async Task Script_RunTwice_IsANoOp_AndRejectsALiveRowWithoutPayload()
    {
        string table = TestDatabase.UniqueTable();
        string script = PostgreSqlDocumentStoreSchema.CreateScript("public", table);

        await server.DataSource.ExecuteAsync(script);
        await server.DataSource.ExecuteAsync(script);

        await server.DataSource.ExecuteAsync(
            $"INSERT INTO \"{table}\" (id, payload, deleted) VALUES ('tombstone', NULL, true)"
        );
        var violation = await Assert.ThrowsAsync<PostgresException>(() =>
            server.DataSource.ExecuteAsync(
                $"INSERT INTO \"{table}\" (id, payload, deleted) VALUES ('live', NULL, false)"
            )
        );
        Assert.Equal(PostgresErrorCodes.CheckViolation, violation.SqlState);
    }

    [Fact]
    public async Task Script_InANewSchema_CreatesTheSchemaToo()
    {
        string schema = TestDatabase.UniqueTable("s");
        var options = new PostgreSqlDocumentStoreOptions { Schema = schema, TableName = "Customer" };

        await server.DataSource.ExecuteAsync(PostgreSqlDocumentStoreSchema.CreateScript<Customer>(options));
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, options);
        await store.UpsertAsync("a", Customer.Create("a", 1));

        Assert.Equal($"\"{schema}\".\"Customer\"", store.TableName);
        Assert.Equal(1L, await server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM \"{schema}\".\"Customer\""));
    }

    [Fact]
    public async Task CreateAsync_CreatesOnce_EvenWhenRacedByManyInstances()
    {
        var options = new PostgreSqlDocumentStoreOptions { TableName = TestDatabase.UniqueTable() };

        bool[] created = await StartingGate.RunAsync(
            8,
            async _ => await PostgreSqlDocumentStoreSchema.CreateAsync<Customer>(server.DataSource, options)
        );

        Assert.Single(created, c => c);
        Assert.False(await PostgreSqlDocumentStoreSchema.CreateAsync<Customer>(server.DataSource, options));
    }

    [Fact]
    public async Task CreateSchemaOn_CreatesTheTableBeforeTheFirstCommand()
    {
        string table = TestDatabase.UniqueTable();
        var store = new PostgreSqlOldStore<LegacyCustomer>(
            server.DataSource,
            new PostgreSqlDocumentStoreOptions { TableName = table, CreateSchema = true }
        );

        Assert.Null(await server.DataSource.ScalarAsync<string>("SELECT to_regclass($1)::text", table));
        Assert.Null(await store.FindAsync("a"));
        Assert.Equal(table, await server.DataSource.ScalarAsync<string>("SELECT to_regclass($1)::text", table));
    }

    [Fact]
    public async Task CreateSchemaOff_AMissingTable_FailsWithPostgresUndefinedTable()
    {
        var store = new PostgreSqlNewStore<Customer>(
            server.DataSource,
            new PostgreSqlDocumentStoreOptions { TableName = TestDatabase.UniqueTable() }
        );

        var missing = await Assert.ThrowsAsync<PostgresException>(async () => await store.FindAsync("a"));

        Assert.Equal(PostgresErrorCodes.UndefinedTable, missing.SqlState);
    }

    [Fact]
    public async Task DocsScript_HoldsTheGeneratedScripts_AndRunsAsIs()
    {
        string shipped = (
            await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "docs", "postgresql.sql"))
        ).ReplaceLineEndings("\n");
        await using NpgsqlDataSource fresh = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());

        Assert.Contains(
            PostgreSqlDocumentStoreSchema.CreateScript("public", "customer"),
            shipped,
            StringComparison.Ordinal
        );
        Assert.Contains(
            PostgreSqlDocumentStoreSchema.CreateScript("migration", "legacy_customer"),
            shipped,
            StringComparison.Ordinal
        );
        await fresh.ExecuteAsync(shipped);
        Assert.False(
            await PostgreSqlDocumentStoreSchema.CreateAsync<Customer>(fresh, new PostgreSqlDocumentStoreOptions())
        );
        Assert.False(
            await PostgreSqlDocumentStoreSchema.CreateAsync<LegacyCustomer>(
                fresh,
                new PostgreSqlDocumentStoreOptions { Schema = "migration" }
            )
        );
    }

    [Fact]
    public async Task DocsScript_HoldsTheGeneratedOutboxScript_WhichCreatesTheTableTheOutboxUses()
    {
        string shipped = (
            await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "docs", "postgresql.sql"))
        ).ReplaceLineEndings("\n");
        await using NpgsqlDataSource fresh = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());

        Assert.Contains(
            PostgreSqlOutboxSchema.CreateScript(new PostgreSqlOutboxOptions()),
            shipped,
            StringComparison.Ordinal
        );
        await fresh.ExecuteAsync(shipped);
        Assert.False(await PostgreSqlOutboxSchema.CreateAsync(fresh));
        var outbox = new PostgreSqlOutbox(fresh);
        await outbox.RecordAsync(
            new("m", LazyMigrate.Outbox.OutboxItemKind.WriteBack, "a", null, DateTimeOffset.UnixEpoch)
        );
        Assert.Single(
            await outbox.ClaimAsync(
                new("m", "owner", 1, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddMinutes(1))
            )
        );
    }

    [Fact]
    public async Task UnderAPublicationForAllTables_AClaimFoldsTheCaptures_ThroughTheirReplicaIdentity()
    {
        await using NpgsqlDataSource database = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await PostgreSqlOutboxSchema.CreateAsync(database);
        // A publication needs no logical wal_level to exist, and makes every DELETE need a replica identity.
        await database.ExecuteAsync("CREATE PUBLICATION everything FOR ALL TABLES");
        await database.ExecuteAsync(
            "INSERT INTO lazymigrate_outbox_captures (migration, entity_id) VALUES ('m', 'a'), ('m', 'a'), ('m', 'b')"
        );
        var outbox = new PostgreSqlOutbox(database);
        DateTimeOffset now = DateTimeOffset.UtcNow.AddMinutes(1);

        IReadOnlyList<LazyMigrate.Outbox.OutboxItem> claimed = await outbox.ClaimAsync(
            new("m", "owner", 10, now, now.AddMinutes(1))
        );

        Assert.Equal(["a", "b"], claimed.Select(i => i.EntityId).Order());
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM lazymigrate_outbox_captures"));
    }

    [Fact]
    public async Task AnOutboxMadeBeforeTheCapturesTable_GetsIt_FromCreateAsync_AndFromItsFirstCommand()
    {
        await using NpgsqlDataSource first = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        await using NpgsqlDataSource second = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        const string Earlier = "DROP TABLE lazymigrate_outbox_captures";
        foreach (NpgsqlDataSource database in (NpgsqlDataSource[])[first, second])
        {
            await database.ExecuteAsync(PostgreSqlOutboxSchema.CreateScript(new PostgreSqlOutboxOptions()));
            await database.ExecuteAsync(Earlier);
        }

        Assert.True(await PostgreSqlOutboxSchema.CreateAsync(first));
        var outbox = new PostgreSqlOutbox(second, new PostgreSqlOutboxOptions { CreateSchema = true });
        DateTimeOffset now = DateTimeOffset.UnixEpoch;
        Assert.Empty(await outbox.ClaimAsync(new("m", "owner", 1, now, now.AddMinutes(1))));

        foreach (NpgsqlDataSource database in (NpgsqlDataSource[])[first, second])
        {
            Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM lazymigrate_outbox_captures"));
        }
    }

    [Fact]
    public async Task DocsScript_HoldsTheGeneratedBackfillScript_WhichCreatesTheTablesTheCheckpointStoreUses()
    {
        string shipped = (
            await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "docs", "postgresql.sql"))
        ).ReplaceLineEndings("\n");
        await using NpgsqlDataSource fresh = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());

        Assert.Contains(
            PostgreSqlBackfillSchema.CreateScript(new PostgreSqlBackfillCheckpointOptions()),
            shipped,
            StringComparison.Ordinal
        );
        await fresh.ExecuteAsync(shipped);
        Assert.False(await PostgreSqlBackfillSchema.CreateAsync(fresh));
        var store = new PostgreSqlBackfillCheckpointStore(fresh);
        await store.QuarantineAsync(
            "m",
            [new LazyMigrate.Backfill.QuarantinedEntity("a", "FormatException: no", DateTimeOffset.UnixEpoch, 1)]
        );
        Assert.Equal("a", Assert.Single(await store.GetQuarantinedAsync("m", null, 10)).EntityId);
    }

    [Fact]
    public void OutboxScript_OfALongTableName_CutsItsIndexAndSequenceNamesToFit()
    {
        string table = new('t', 63);

        string script = PostgreSqlOutboxSchema.CreateScript("public", table);

        Assert.Contains($"\"{new string('t', 59)}_due\"", script, StringComparison.Ordinal);
        Assert.Contains($"\"{new string('t', 58)}_dead\"", script, StringComparison.Ordinal);
        Assert.Contains($"nextval('\"public\".\"{new string('t', 54)}_sequence\"')", script, StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "LazyMigrate.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No LazyMigrate.sln above {AppContext.BaseDirectory}.");
    }
}
