using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// Gives the records of one transaction their <see cref="LazyMigrateOutboxItem.Sequence"/>: the table's greatest, read
/// once inside the writing transaction, plus one for each record.
/// </summary>
/// <remarks>
/// <para>
/// EF Core has no portable sequence, so the table is its own: <c>max(Sequence) + 1</c>, over the index on the column.
/// On SQLite that is exact across connections, processes and instances: a transaction begins <c>IMMEDIATE</c>
/// (Microsoft.Data.Sqlite's default), holding the database's write lock from its start, so no other writer reads the
/// greatest value until this one commits. A clock-based value was the other choice, and is worse: it orders records by
/// each instance's clock, which skews between machines, and needs a process-wide counter besides.
/// </para>
/// <para>
/// On PostgreSQL, under read committed, two records whose transactions overlap may read the same greatest value and
/// get the same sequence (never a smaller one than a record committed before they began). A tie orders nothing: of a
/// write-back and a forward sync of one entity recorded at the same moment, both are applied, in claim order, rather
/// than the later one alone. LazyMigrate.PostgreSql's outbox takes a real sequence instead and has no such tie.
/// </para>
/// </remarks>
internal sealed class OutboxSequence(DbContext context)
{
    private long? _last;

    /// <summary>Gets the next sequence, greater than every one the table held and this transaction gave.</summary>
    public async Task<long> NextAsync(CancellationToken cancellationToken)
    {
        long last =
            _last
            ?? await context
                .Set<LazyMigrateOutboxItem>()
                .MaxAsync(i => (long?)i.Sequence, cancellationToken)
                .ConfigureAwait(false)
            ?? 0;
        _last = last + 1;
        return last + 1;
    }
}
