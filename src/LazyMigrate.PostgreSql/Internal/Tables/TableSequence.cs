namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The sequence an integer key takes its values from, and the statements that keep it ahead of explicit keys.
/// </summary>
/// <remarks>
/// An upsert runs, in one batch (one round trip, the write-back's transaction), after its <c>INSERT</c>:
/// <see cref="Lock"/>, which takes a transaction advisory lock of this sequence only when the key is at or past what
/// the next <c>nextval</c> would return, then <see cref="Advance"/>, which re-reads the sequence under that lock and
/// calls <c>setval(seq, key)</c> only if the key is still at or past it. Sequences are not transactional, so the
/// re-read sees every other writer's <c>setval</c>; the lock makes two writers of high keys take turns, so neither
/// moves the sequence back over the other's key. A legacy <c>nextval</c> between the re-read and the <c>setval</c> is
/// not excluded (it takes no lock): that is the documented limit. <c>is_called</c> decides what "past" means: after a
/// <c>nextval</c> (<c>is_called</c>) the next value is <c>last_value + 1</c>, before any (or after
/// <c>setval(seq, v, false)</c>) it is <c>last_value</c> itself.
/// </remarks>
internal sealed class TableSequence
{
    public TableSequence(string schema, string name)
    {
        Qualified =
            $"{PostgreSqlIdentifier.Quote(schema, "sequence schema")}.{PostgreSqlIdentifier.Quote(name, "sequence")}";

        // The names are checked identifiers, so the literal holds no quote of its own.
        string regclass = $"'{Qualified}'::regclass";
        const string AtOrPast = "CASE WHEN is_called THEN $1 > last_value ELSE $1 >= last_value END";
        // The same lock as the EF Core store's KeySequence (LazyMigrate.EntityFrameworkCore): ("LMSQ", the sequence's
        // OID), so a writer through either store on one sequence takes turns with the other.
        Lock =
            $"SELECT pg_advisory_xact_lock({LockSpace}, {regclass}::oid::int) " + $"FROM {Qualified} WHERE {AtOrPast}";
        Advance = $"SELECT setval({regclass}, $1) FROM {Qualified} WHERE {AtOrPast}";
        NextValue = $"SELECT nextval({regclass})";
    }

    /// <summary>The first key of a sequence's advisory lock, "LMSQ"; the second is the sequence's OID.</summary>
    public const int LockSpace = 0x4C4D_5351;

    /// <summary>Gets the quoted, schema-qualified sequence name.</summary>
    public string Qualified { get; }

    /// <summary>Gets the conditional advisory lock; <c>$1</c> is the key.</summary>
    public string Lock { get; }

    /// <summary>Gets the conditional <c>setval</c>; <c>$1</c> is the key. It returns a row when it advanced.</summary>
    public string Advance { get; }

    /// <summary>Gets <c>nextval</c> of the sequence.</summary>
    public string NextValue { get; }
}
