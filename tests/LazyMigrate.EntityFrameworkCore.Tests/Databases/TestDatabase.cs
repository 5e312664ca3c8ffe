using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Tests;

/// <summary>
/// Where a test class's databases live: SQLite files (in either journal mode) or the shared PostgreSQL server.
/// </summary>
public abstract class TestDatabase : IAsyncDisposable
{
    public abstract string Name { get; }

    /// <summary>Creates an empty database with the <see cref="StoreDb"/> schema.</summary>
    public Task<ContextFactory<StoreDb>> CreateAsync() => CreateAsync<StoreDb>(o => new StoreDb(o));

    /// <summary>Creates an empty database with the schema of <typeparamref name="TContext"/>.</summary>
    public async Task<ContextFactory<TContext>> CreateAsync<TContext>(Func<DbContextOptions<TContext>, TContext> create)
        where TContext : DbContext
    {
        string connectionString = await NewConnectionStringAsync();
        DbContextOptions<TContext> options = Configure(
            new DbContextOptionsBuilder<TContext>(),
            connectionString
        ).Options;
        var factory = new ContextFactory<TContext>(options, create, connectionString);
        await using TContext db = factory.CreateDbContext();
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
