using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.DistributedLock.Tests;

/// <summary>The PostgreSQL fixture really runs PostgreSQL 15, and its extra databases are really separate.</summary>
[Collection("postgres")]
public sealed class PostgresServerTests(PostgresServer server)
{
    [Fact]
    public async Task ConnectionString_ReachesPostgreSql15_InTheLazyMigrateDatabase()
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand(
            "SELECT current_setting('server_version_num')::int / 10000, current_database()",
            connection
        );
        await using var reader = await query.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());

        Assert.Equal(15, reader.GetInt32(0));
        Assert.Equal(PostgresServer.DatabaseName, reader.GetString(1));
        Assert.Equal("127.0.0.1", connection.Host);
    }

    [Fact]
    public async Task CreateDatabaseAsync_GivesADatabaseOfItsOwn()
    {
        string table = $"isolation_{Guid.NewGuid():N}";
        string first = await server.CreateDatabaseAsync();
        string second = await server.CreateDatabaseAsync();

        await using (var create = new NpgsqlConnection(first))
        {
            await create.OpenAsync();
            await new NpgsqlCommand($"CREATE TABLE {table} (id int)", create).ExecuteNonQueryAsync();
        }

        Assert.NotEqual(
            new NpgsqlConnectionStringBuilder(first).Database,
            new NpgsqlConnectionStringBuilder(second).Database
        );
        Assert.True(await TableExistsAsync(first, table));
        Assert.False(await TableExistsAsync(second, table));
        Assert.False(await TableExistsAsync(server.ConnectionString, table));
    }

    [Fact]
    public async Task DataSource_RunsQueries()
    {
        await using var query = server.DataSource.CreateCommand("SELECT 41 + 1");

        Assert.Equal(42, await query.ExecuteScalarAsync());
    }

    private static async Task<bool> TableExistsAsync(string connectionString, string table)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT to_regclass(@table) IS NOT NULL", connection);
        query.Parameters.AddWithValue("table", table);
        return (bool)(await query.ExecuteScalarAsync())!;
    }
}
