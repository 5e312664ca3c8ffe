using LazyMigrate.TestKit.Servers;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace LazyMigrate.EntityFrameworkCore.Tests;

/// <summary>Fresh databases on the shared PostgreSQL server; their connection pools are cleared at the end.</summary>
public sealed class PostgresDatabases(PostgresServer server) : TestDatabase
{
    private readonly List<string> _connectionStrings = [];

    public override string Name => "PostgreSQL";

    public override DbContextOptionsBuilder<TContext> Configure<TContext>(
        DbContextOptionsBuilder<TContext> builder,
        string connectionString
    ) => builder.UseNpgsql(connectionString);

    public override async Task<string> NewConnectionStringAsync()
    {
        string connectionString = await server.CreateDatabaseAsync();
        lock (_connectionStrings)
        {
            _connectionStrings.Add(connectionString);
        }

        return connectionString;
    }

    public override ValueTask DisposeAsync()
    {
        // Each database has its own pool: give the connections back to the server before the next test's databases.
        foreach (string connectionString in _connectionStrings)
        {
            using var connection = new NpgsqlConnection(connectionString);
            NpgsqlConnection.ClearPool(connection);
        }

        return ValueTask.CompletedTask;
    }
}
