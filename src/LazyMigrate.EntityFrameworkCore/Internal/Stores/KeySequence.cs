using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// Keeps a PostgreSQL table's key sequence (<c>serial</c>, <c>identity</c>) past the keys an old store inserts
/// explicitly, so that the legacy application's own inserts, which take the sequence's next value, never collide with
/// a row written back. Only on Npgsql and for integer keys; other providers and key types are left as they are
/// (docs/entity-framework-core.md says why and what that means).
/// </summary>
/// <remarks>
/// Within the inserting transaction: a transaction-scoped advisory lock, taken only when the key is at or past the
/// sequence's last value, serializes the writers that may move it, and the conditional <c>setval</c> under it moves the
/// sequence forward only, never back over another writer's key (a legacy <c>nextval</c> between the check and the
/// <c>setval</c> takes no lock: that is the documented limit). The sequence is found once, through
/// <c>pg_get_serial_sequence</c> with the table and column of the EF Core model; values travel as parameters, and the
/// sequence's name comes from the catalog, quoted by the server.
/// </remarks>
internal sealed class KeySequence<TContext, TEntity, TKey>(Func<TContext, DbSet<TEntity>> set, string keyProperty)
    where TContext : DbContext
    where TEntity : class
    where TKey : notnull
{
    private const string NpgsqlProvider = "Npgsql.EntityFrameworkCore.PostgreSQL";

    /// <summary>
    /// Sets the advisory locks of sequences apart from other users of the two-key form; the second key is the
    /// sequence's OID. LazyMigrate.PostgreSql's table store (TableSequence) takes the very same lock, so writers
    /// through both stores on one sequence take turns.
    /// </summary>
    private const int LockSpace = 0x4C4D_5351; // "LMSQ"

    private static readonly bool IsIntegerKey =
        typeof(TKey) == typeof(int) || typeof(TKey) == typeof(long) || typeof(TKey) == typeof(short);

    /// <summary>
    /// The quoted sequence name, <c>""</c> when the key has none, <see langword="null"/> until looked up.
    /// </summary>
    private volatile string? _sequence;

    /// <summary>
    /// After an insert of <paramref name="key"/> in <paramref name="context"/>'s transaction, moves the key's sequence
    /// past it if it is not already.
    /// </summary>
    public async Task AdvancePastAsync(TContext context, TKey key, CancellationToken cancellationToken)
    {
        if (!IsIntegerKey || context.Database.ProviderName != NpgsqlProvider)
        {
            return;
        }

        string sequence = _sequence ??= await FindAsync(context, cancellationToken).ConfigureAwait(false);
        if (sequence.Length == 0)
        {
            return;
        }

        // The sequence's name is spliced in, as a relation name must be: it comes from the catalog, quoted by the
        // server (quote_ident), with the braces of EF Core's placeholders doubled. Every value is a parameter.
#pragma warning disable EF1002, EF1003
        long value = Convert.ToInt64(key, System.Globalization.CultureInfo.InvariantCulture);
        string from = sequence
            .Replace("{", "{{", StringComparison.Ordinal)
            .Replace("}", "}}", StringComparison.Ordinal);
        await context
            .Database.ExecuteSqlRawAsync(
                "SELECT pg_advisory_xact_lock({0}, {1}::regclass::oid::int) "
                    + $"WHERE {{2}} >= (SELECT last_value FROM {from})",
                [LockSpace, sequence, value],
                cancellationToken
            )
            .ConfigureAwait(false);
        await context
            .Database.ExecuteSqlRawAsync(
                $"SELECT setval({{0}}::regclass, {{1}}) FROM {from} WHERE {{1}} >= last_value",
                [sequence, value],
                cancellationToken
            )
            .ConfigureAwait(false);
#pragma warning restore EF1002, EF1003
    }

    /// <summary>
    /// After inserts of <paramref name="keys"/> in <paramref name="context"/>'s transaction, moves the key's sequence
    /// past the largest of them, and so past every one, if it is not already.
    /// </summary>
    public Task AdvancePastAllAsync(TContext context, IReadOnlyList<TKey> keys, CancellationToken cancellationToken) =>
        keys.Count == 0 || !IsIntegerKey
            ? Task.CompletedTask
            : AdvancePastAsync(context, keys.Max()!, cancellationToken);

    private async Task<string> FindAsync(TContext context, CancellationToken cancellationToken)
    {
        IEntityType entityType = set(context).EntityType;
        string table = entityType.GetTableName()!;
        string? schema = entityType.GetSchema();
        string column = entityType
            .FindProperty(keyProperty)!
            .GetColumnName(StoreObjectIdentifier.Table(table, schema))!;
        string qualified = schema is null ? Quote(table) : $"{Quote(schema)}.{Quote(table)}";
        List<string> found = await context
            .Database.SqlQueryRaw<string>(
                "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS \"Value\" "
                    + "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                    + "WHERE c.oid = pg_get_serial_sequence({0}, {1})::regclass",
                qualified,
                column
            )
            .ToListAsync(cancellationToken)
            .ConfigureAwait(false);
        return found is [string name] ? name : "";
    }

    /// <summary>A quoted identifier, as pg_get_serial_sequence parses its table argument.</summary>
    private static string Quote(string identifier) =>
        "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
