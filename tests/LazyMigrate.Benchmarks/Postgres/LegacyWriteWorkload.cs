using Npgsql;

namespace LazyMigrate.Benchmarks.Postgres;

/// <summary>
/// The legacy application's writes that the capture trigger's benchmark and probe measure: a legacy table with typed
/// columns of <see cref="Rows"/> rows, one <c>UPDATE</c> by key a write, sent as plain Npgsql commands through a pool
/// that treats its connections as <see cref="LegacyPool"/> says.
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

    /// <summary>Creates the legacy table <paramref name="table"/> (a constant, never input) and its rows.</summary>
    public static string CreateTable(string table) =>
        $"CREATE TABLE {table} (id integer PRIMARY KEY, full_name text NOT NULL, version integer NOT NULL); "
        + $"INSERT INTO {table} SELECT i, 'Customer ' || i, 1 FROM generate_series(1, {Rows}) i";

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
    /// Writes every row of <paramref name="table"/> once, setting its version to <paramref name="version"/>, with
    /// <paramref name="concurrency"/> writers.
    /// </summary>
    public static Task WriteAllAsync(NpgsqlDataSource legacy, string table, int concurrency, int version)
    {
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
}
