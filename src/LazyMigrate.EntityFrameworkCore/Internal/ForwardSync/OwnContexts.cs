using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// The contexts LazyMigrate's own stores create: a forward sync interceptor on a legacy context type ignores their
/// saves, since a write LazyMigrate makes to the old store is a write-back, which must not come back as a forward sync.
/// </summary>
internal static class OwnContexts
{
    private static readonly ConditionalWeakTable<DbContext, object> Marked = [];

    public static TContext Mark<TContext>(TContext context)
        where TContext : DbContext
    {
        Marked.AddOrUpdate(context, Marked);
        return context;
    }

    public static bool IsOwn(DbContext context) => Marked.TryGetValue(context, out _);
}

/// <summary>A context factory whose contexts are marked as LazyMigrate's own (<see cref="OwnContexts"/>).</summary>
internal sealed class OwnContextFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<TContext>
    where TContext : DbContext
{
    public TContext CreateDbContext() => OwnContexts.Mark(inner.CreateDbContext());

    public async Task<TContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
        OwnContexts.Mark(await inner.CreateDbContextAsync(cancellationToken).ConfigureAwait(false));
}
