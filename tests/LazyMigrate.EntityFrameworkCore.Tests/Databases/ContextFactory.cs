using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Tests;

/// <summary>Creates contexts over fixed options, as <c>AddDbContextFactory</c> would.</summary>
public sealed class ContextFactory<TContext>(
    DbContextOptions<TContext> options,
    Func<DbContextOptions<TContext>, TContext> create,
    string connectionString = ""
) : IDbContextFactory<TContext>
    where TContext : DbContext
{
    public string ConnectionString => connectionString;

    public TContext CreateDbContext() => create(options);
}
