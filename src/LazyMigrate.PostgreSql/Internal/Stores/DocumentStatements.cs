namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The SQL of one document table, built once per store. Names are checked and quoted; every value is a positional
/// parameter (<c>$1</c>, <c>$2</c>). Ids compare in the "C" collation, the ordinal order the keyset scan needs.
/// </summary>
internal sealed class DocumentStatements
{
    public DocumentStatements(DocumentTableName table)
    {
        string t = table.Qualified;

        // What the new store holds for ids, tombstones included.
        Find = $"SELECT deleted, payload FROM {t} WHERE id = $1";
        FindMany = $"SELECT id, deleted, payload FROM {t} WHERE id = ANY($1)";

        // What the old store holds: a tombstone (the table was a new store before) counts as absent.
        FindLive = $"SELECT payload FROM {t} WHERE id = $1 AND NOT deleted";
        FindManyLive = $"SELECT id, payload FROM {t} WHERE id = ANY($1) AND NOT deleted";
        ScanFirst = $"SELECT id, payload FROM {t} WHERE NOT deleted ORDER BY id COLLATE \"C\" LIMIT $1";
        ScanAfter =
            $"SELECT id, payload FROM {t} WHERE id > $1 COLLATE \"C\" AND NOT deleted "
            + "ORDER BY id COLLATE \"C\" LIMIT $2";

        // Insert-if-absent: a value and a tombstone are both conflicts, so neither is ever overwritten.
        InsertIfAbsent =
            $"INSERT INTO {t} (id, payload, deleted, updated_at) VALUES ($1, $2, false, now()) "
            + "ON CONFLICT (id) DO NOTHING";
        InsertIfAbsentReturningId = InsertIfAbsent + " RETURNING id";
        InsertManyIfAbsent =
            $"INSERT INTO {t} (id, payload, deleted, updated_at) "
            + "SELECT u.id, u.payload, false, now() FROM unnest($1::text[], $2::jsonb[]) AS u(id, payload) "
            + "ON CONFLICT (id) DO NOTHING RETURNING id";

        Upsert =
            $"INSERT INTO {t} (id, payload, deleted, updated_at) VALUES ($1, $2, false, now()) "
            + "ON CONFLICT (id) DO UPDATE "
            + "SET payload = EXCLUDED.payload, deleted = false, updated_at = EXCLUDED.updated_at";
        Tombstone =
            $"INSERT INTO {t} (id, payload, deleted, updated_at) VALUES ($1, NULL, true, now()) "
            + "ON CONFLICT (id) DO UPDATE SET payload = NULL, deleted = true, updated_at = EXCLUDED.updated_at";
        Delete = $"DELETE FROM {t} WHERE id = $1";

        // The write-backs of one dispatched batch (distinct ids: ON CONFLICT cannot touch a row twice).
        UpsertMany =
            $"INSERT INTO {t} (id, payload, deleted, updated_at) "
            + "SELECT u.id, u.payload, false, now() FROM unnest($1::text[], $2::jsonb[]) AS u(id, payload) "
            + "ON CONFLICT (id) DO UPDATE "
            + "SET payload = EXCLUDED.payload, deleted = false, updated_at = EXCLUDED.updated_at";
        DeleteMany = $"DELETE FROM {t} WHERE id = ANY($1)";

        // The migration locks a new store takes itself (UseNewStoreLock); see StoreLockSql.
        LockKeyPrefix = $"lazymigrate:{t}:";
    }

    /// <summary>
    /// Gets what a migration-lock key starts with: the key of an id is <c>lazymigrate:"schema"."table":{id}</c>, so
    /// that the same id in two tables has two locks (see <see cref="StoreLockSql"/>).
    /// </summary>
    public string LockKeyPrefix { get; }

    public string Find { get; }

    public string FindMany { get; }

    public string FindLive { get; }

    public string FindManyLive { get; }

    public string ScanFirst { get; }

    public string ScanAfter { get; }

    public string InsertIfAbsent { get; }

    /// <summary>
    /// Gets <see cref="InsertIfAbsent"/> returning the id when it inserted, as <see cref="InsertManyIfAbsent"/> does.
    /// </summary>
    public string InsertIfAbsentReturningId { get; }

    public string InsertManyIfAbsent { get; }

    public string Upsert { get; }

    public string Tombstone { get; }

    public string Delete { get; }

    public string UpsertMany { get; }

    public string DeleteMany { get; }
}
