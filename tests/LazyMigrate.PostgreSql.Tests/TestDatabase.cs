using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// Small helpers over the test server: unique table names, raw SQL, killing the backend that holds a lock.
/// </summary>
internal static class TestDatabase
{
    /// <summary>A table name no other test uses, so each test starts from an empty table.</summary>
    public static string UniqueTable(string prefix = "t") => $"{prefix}_{Guid.NewGuid():N}";

    public static PostgreSqlDocumentStoreOptions Options(
        string? table = null,
        Action<PostgreSqlDocumentStoreOptions>? configure = null
    )
    {
        var options = new PostgreSqlDocumentStoreOptions { TableName = table ?? UniqueTable(), CreateSchema = true };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>A backfill checkpoint store over tables no other test uses, created at its first call.</summary>
    public static PostgreSqlBackfillCheckpointStore CheckpointStore(NpgsqlDataSource dataSource) =>
        new(
            dataSource,
            new PostgreSqlBackfillCheckpointOptions
            {
                TableName = UniqueTable("backfill"),
                QuarantineTableName = UniqueTable("quarantine"),
                CreateSchema = true,
            }
        );

    public static async Task<int> ExecuteAsync(this NpgsqlDataSource dataSource, string sql, params object[] values)
    {
        await using NpgsqlCommand command = dataSource.CreateCommand(sql);
        foreach (object value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return await command.ExecuteNonQueryAsync();
    }

    public static async Task<T?> ScalarAsync<T>(this NpgsqlDataSource dataSource, string sql, params object[] values)
    {
        await using NpgsqlCommand command = dataSource.CreateCommand(sql);
        foreach (object value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        object? result = await command.ExecuteScalarAsync();
        return result is null or DBNull ? default : (T)result;
    }

    /// <summary>
    /// Terminates the backend that holds the advisory lock of <paramref name="key"/> and waits until it has exited,
    /// so the lock is free when this returns. Returns how many backends were terminated (one when the lock was held).
    /// </summary>
    public static async Task<long> TerminateLockHolderAsync(this NpgsqlDataSource dataSource, string key) =>
        await dataSource.ScalarAsync<long>(
            $"SELECT count(pg_terminate_backend(pid, 30000)) FROM ({AdvisoryLockSql.Holder}) AS holder",
            key
        );
}
