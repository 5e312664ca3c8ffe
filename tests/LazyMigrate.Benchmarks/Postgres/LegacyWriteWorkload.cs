using Npgsql;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// The legacy application's writes that the capture trigger's benchmark and probe measure: a legacy table with typed
/// columns of <see cref="Rows"/> rows, one statement by key a write (<see cref="LegacyWrite"/>), sent as plain Npgsql
/// commands through a pool that treats its connections as <see cref="LegacyPool"/> says.
/// </summary>
internal static class LegacyWriteWorkload
{
    /// <summary>The rows of a legacy table, and the writes of one pass over it.</summary>
    public const int Rows = 1000;

    /// <summary>The table that records the captures of <see cref="LeastCaptureTrigger"/>.</summary>
    public const string FloorCaptures = "captured";

    /// <summary>Creates <see cref="FloorCaptures"/> unless it exists.</summary>
    public const string CreateFloorCaptures =
        $"CREATE TABLE IF NOT EXISTS {FloorCaptures} (entity_id text NOT NULL, sequence bigserial)";

    /// <summary>
    /// Creates the legacy table <paramref name="table"/> (a constant, never input) and its rows, with the columns
    /// <paramref name="write"/> writes: the web service sample's legacy table for <see cref="LegacyWrite.Save"/>.
    /// </summary>
    public static string CreateTable(string table, LegacyWrite write = LegacyWrite.Update) =>
        write == LegacyWrite.Update
            ? $"CREATE TABLE {table} (id integer PRIMARY KEY, full_name text NOT NULL, version integer NOT NULL); "
                + $"INSERT INTO {table} SELECT i, 'Customer ' || i, 1 FROM generate_series(1, {Rows}) i"
            : $"CREATE TABLE {table} (id integer PRIMARY KEY, full_name text NOT NULL, phone text, "
                + "credit_limit integer NOT NULL DEFAULT 0, updated_at timestamptz DEFAULT now()); "
                + $"INSERT INTO {table} (id, full_name, phone, credit_limit) SELECT i, 'Customer ' || i, "
                + $"'+44 20 7946 ' || lpad(i::text, 4, '0'), i FROM generate_series(1, {Rows}) i";

    /// <summary>
    /// The least a capture trigger can do, on <paramref name="table"/>: one insert of the changed key into an
    /// append-only table of two columns (<see cref="FloorCaptures"/>, created here if missing), no index, no conflict
    /// clause, no check of a write-back mark. Not LazyMigrate's: the floor any trigger design has.
    /// </summary>
    public static string LeastCaptureTrigger(string table) =>
        $"{CreateFloorCaptures}; CREATE FUNCTION {table}_capture() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + $"INSERT INTO {FloorCaptures} (entity_id) VALUES (OLD.id::text); RETURN NULL; END $$; "
        + $"CREATE TRIGGER capture AFTER UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_capture()";

    /// <summary>The legacy application's own pool over <paramref name="connectionString"/>.</summary>
    public static NpgsqlDataSource Pool(string connectionString, LegacyPool pool) =>
        NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(connectionString)
            {
                NoResetOnClose = pool == LegacyPool.NoReset,
                MaxAutoPrepare = pool == LegacyPool.ResetKeepingPlans ? 10 : 0,
                AutoPrepareMinUsages = 2,
            }.ConnectionString
        );

    /// <summary>
    /// Writes every row of <paramref name="table"/> once with <paramref name="concurrency"/> writers, each write as
    /// <paramref name="write"/> says, with <paramref name="version"/> in what it sets.
    /// </summary>
    public static Task WriteAllAsync(
        NpgsqlDataSource legacy,
        string table,
        int concurrency,
        int version,
        LegacyWrite write = LegacyWrite.Update
    )
    {
        if (write == LegacyWrite.Save)
        {
            return ConcurrentWork.RunAsync(Rows, concurrency, i => SaveAsync(legacy, table, i + 1, version));
        }

        string update = $"UPDATE {table} SET version = $1 WHERE id = $2";
        return ConcurrentWork.RunAsync(
            Rows,
            concurrency,
            async i =>
            {
                await using NpgsqlCommand command = legacy.CreateCommand(update);
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = version });
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = i + 1 });
                await command.ExecuteNonQueryAsync();
            }
        );
    }

    /// <summary>
    /// The web service sample's old-API save of a customer (<c>PUT /v1/customers/{id}</c>, the sample's
    /// <c>LegacyTable.UpsertAsync</c>): the same statement with its named parameters, every mapped column replaced.
    /// </summary>
    private static async Task SaveAsync(NpgsqlDataSource legacy, string table, int id, int version)
    {
        await using NpgsqlConnection connection = await legacy.OpenConnectionAsync();
        await using var upsert = new NpgsqlCommand(
            $"INSERT INTO {table} (id, full_name, phone, credit_limit, updated_at) "
                + "VALUES (@id, @full_name, @phone, @credit_limit, now()) ON CONFLICT (id) DO UPDATE SET "
                + "full_name = excluded.full_name, phone = excluded.phone, credit_limit = excluded.credit_limit, "
                + "updated_at = now()",
            connection
        );
        upsert.Parameters.AddWithValue("id", id);
        upsert.Parameters.AddWithValue("full_name", $"Customer {id} v{version}");
        upsert.Parameters.AddWithValue("phone", $"+44 20 7946 {id:D4}");
        upsert.Parameters.AddWithValue("credit_limit", version);
        await upsert.ExecuteNonQueryAsync();
    }
}

/// <summary>Which statement a legacy write sends (<see cref="LegacyWriteWorkload"/>).</summary>
public enum LegacyWrite
{
    /// <summary>The least write: one integer column of the row with the key (<c>UPDATE ... SET version</c>).</summary>
    Update,

    /// <summary>
    /// The old API's save in the web service sample: an upsert of the row with the key, every column replaced and
    /// <c>updated_at</c> set to now, as its legacy code sends it.
    /// </summary>
    Save,
}
