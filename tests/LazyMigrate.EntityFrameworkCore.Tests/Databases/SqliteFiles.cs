using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Tests;

/// <summary>SQLite database files in a temporary folder, a new file per database, deleted with the folder.</summary>
public sealed class SqliteFiles(bool writeAheadLog) : TestDatabase
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("lazymigrate-efcore-");

    public override string Name => writeAheadLog ? "SQLite (WAL)" : "SQLite";

    public override DbContextOptionsBuilder<TContext> Configure<TContext>(
        DbContextOptionsBuilder<TContext> builder,
        string connectionString
    ) => builder.UseSqlite(connectionString);

    public override Task<string> NewConnectionStringAsync() =>
        Task.FromResult(
            new SqliteConnectionStringBuilder
            {
                DataSource = Path.Combine(_folder.FullName, $"{Guid.NewGuid():N}.db"),
                Pooling = true,
            }.ToString()
        );

    public override ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }

    protected override async Task AfterCreateAsync(DbContext db)
    {
        if (writeAheadLog)
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;");
        }
    }
}
