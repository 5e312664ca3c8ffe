using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>Work in one transaction on a fresh context, as every write of the stores and the outbox runs.</summary>
internal static class Transactions
{
    /// <summary>
    /// Runs <paramref name="work"/> in one transaction on a fresh context, through the context's execution strategy (so
    /// a retrying strategy, such as <c>EnableRetryOnFailure</c>, replays the whole transaction). The transaction is
    /// committed when the work completes and rolled back when it throws.
    /// </summary>
    /// <param name="contexts">Creates the context.</param>
    /// <param name="state">What the work needs.</param>
    /// <param name="work">The work.</param>
    /// <param name="isolationLevel">The isolation level, or <see langword="null"/> for the provider's default.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    public static async Task<TResult> RunAsync<TContext, TState, TResult>(
        IDbContextFactory<TContext> contexts,
        TState state,
        Func<TContext, TState, CancellationToken, Task<TResult>> work,
        IsolationLevel? isolationLevel,
        CancellationToken cancellationToken
    )
        where TContext : DbContext
    {
        TContext context = await contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        await using (context.ConfigureAwait(false))
        {
            IExecutionStrategy strategy = context.Database.CreateExecutionStrategy();
            return await strategy
                .ExecuteAsync(
                    (Context: context, State: state, Work: work, Isolation: isolationLevel),
                    static async (_, s, ct) =>
                    {
                        s.Context.ChangeTracker.Clear();

                        // A failed save is never carried on from: the whole transaction rolls back, so EF Core's
                        // savepoint before each save would only cost a round trip.
                        s.Context.Database.AutoSavepointsEnabled = false;
                        IDbContextTransaction transaction = await (
                            s.Isolation is { } level
                                ? s.Context.Database.BeginTransactionAsync(level, ct)
                                : s.Context.Database.BeginTransactionAsync(ct)
                        ).ConfigureAwait(false);
                        await using (transaction.ConfigureAwait(false))
                        {
                            TResult result = await s.Work(s.Context, s.State, ct).ConfigureAwait(false);
                            await transaction.CommitAsync(ct).ConfigureAwait(false);
                            return result;
                        }
                    },
                    verifySucceeded: null,
                    cancellationToken
                )
                .ConfigureAwait(false);
        }
    }
}
