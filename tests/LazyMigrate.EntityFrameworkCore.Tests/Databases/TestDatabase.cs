using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Tests;

/// <summary>
/// Where a test class's databases live: SQLite files (in either journal mode) or the shared PostgreSQL server.
/// </summary>
public abstract class TestDatabase : IAsyncDisposable
{
    public abstract string Name { get; }

    /// <summary>Creates an empty database with the <see cref="StoreDb"/> schema.</summary>
    public async Task<ContextFactory<StoreDb>> CreateAsync()
    {
        string connectionString = await NewConnectionStringAsync();
        DbContextOptions<StoreDb> options = Configure(new DbContextOptionsBuilder<StoreDb>(), connectionString).Options;
        var factory = new ContextFactory<StoreDb>(options, o => new StoreDb(o), connectionString);
        await using StoreDb db = factory.CreateDbContext();
        await db.Database.EnsureCreatedAsync();
        await AfterCreateAsync(db);
        return factory;
    }

    public abstract DbContextOptionsBuilder<TContext> Configure<TContext>(
        DbContextOptionsBuilder<TContext> builder,
        string connectionString
    )
        where TContext : DbContext;

    public abstract Task<string> NewConnectionStringAsync();

    public abstract ValueTask DisposeAsync();

    protected virtual Task AfterCreateAsync(DbContext db) => Task.CompletedTask;
}
