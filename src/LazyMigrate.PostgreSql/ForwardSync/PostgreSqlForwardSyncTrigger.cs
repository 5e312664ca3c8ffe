using System.Text;
using LazyMigrate.Outbox;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// The capture of old-API writes on PostgreSQL, without touching legacy code: row triggers on the legacy table that
/// append the id of every row inserted, updated or deleted to the outbox's captures table, inside the legacy write's
/// own transaction; the outbox folds them into forward sync items (<see cref="LazyMigrationOptions.ForwardSync"/>).
/// Writes LazyMigrate makes itself (write-backs through the PostgreSQL old stores) mark their transaction: the triggers
/// capture none of their rows, and fail a write-back of an entity that an old-API write came after (SQLSTATE
/// <c>LM001</c>), which the old stores then refuse with <see cref="WriteBackSupersededException"/>.
/// </summary>
/// <remarks>
/// The DDL is a script for teams whose DBAs run DDL (<see cref="CreateScript"/>), and the call that runs it
/// (<see cref="CreateAsync"/>). Installing it needs the right to create a function in the legacy table's schema and a
/// trigger on the table, and the outbox's captures table to exist (<see cref="PostgreSqlOutboxSchema"/> makes it); the
/// legacy application's role then needs <c>INSERT</c> on the captures table and <c>USAGE</c> on the outbox's sequence,
/// since the triggers run as the writer (the order check runs only in LazyMigrate's own write-backs). With
/// <see cref="PostgreSqlForwardSyncTriggerOptions.NewStoreTable"/> the trigger also marks the new store's row stale, so
/// that the next read through the new API syncs it at once: the role then needs <c>UPDATE (stale)</c> and
/// <c>SELECT (id, stale)</c> on that table too, and the table must exist (with its <c>stale</c> column) before the
/// script runs. Replacing the triggers (an upgrade, other options) needs the owner of the table and its functions.
/// With <see cref="PostgreSqlForwardSyncTriggerOptions.CompiledCapture"/> the triggers call a compiled trigger function
/// instead (the <c>lazymigrate_capture</c> server module, installed on the server; creating its function needs a
/// superuser), which captures a legacy write without PL/pgSQL and hands a write-back's rows to the PL/pgSQL functions.
/// </remarks>
public static class PostgreSqlForwardSyncTrigger
{
    /// <summary>Gets the idempotent script that creates (or replaces) the trigger and its function.</summary>
    /// <param name="options">Where the trigger goes and what it records.</param>
    /// <returns>SQL that can run any number of times.</returns>
    /// <exception cref="ArgumentException">A name is invalid, or the migration name is empty or too long.</exception>
    public static string CreateScript(PostgreSqlForwardSyncTriggerOptions options)
    {
        var target = TriggerTarget.Of(options);
        string legacy = target.Legacy.Qualified;
        var script = new StringBuilder();
        script
            .Append("-- LazyMigrate forward sync: every row written to ")
            .Append(legacy)
            .Append(" through the old API is captured in ")
            .Append(target.Captures.Qualified)
            .Append(", in the write's transaction")
            .Append(target.NewStore is null ? "" : ", and marked stale in " + target.NewStore.Qualified)
            .Append(
                ".\n-- A write-back by LazyMigrate marks its transaction: the functions capture none of its rows, and\n"
            )
            .Append("-- fail it where an old-API write of the entity came after its intent.\n")
            // Replacing the triggers of an earlier version drops and creates them one by one: outside a transaction,
            // a legacy write between two statements would meet only some of them, or none.
            .Append("-- Run it in one transaction (psql --single-transaction, or between BEGIN and COMMIT), after\n")
            .Append(
                "-- SET LOCAL lock_timeout = '5s': replacing a trigger waits for the table's ACCESS EXCLUSIVE lock,\n"
            )
            .Append(
                "-- and every legacy write queues behind that wait; with the timeout it fails instead (run it again).\n"
            )
            // A function's body is resolved when it runs: without these, a missing table would fail legacy writes.
            .Append(
                "-- The outbox's captures table must be there (its schema script makes it; fails here otherwise).\n"
            )
            .Append("SELECT entity_id FROM ")
            .Append(target.Captures.Qualified)
            .Append(" WHERE false;\n");
        if (target.NewStore is not null)
        {
            script
                .Append("-- The new store's table must be there, with its stale column (fails here otherwise).\n")
                .Append("SELECT stale FROM ")
                .Append(target.NewStore.Qualified)
                .Append(" WHERE false;\n");
        }

        // The order check first: the capture functions call it.
        AppendFunction(script, target.OrderFunction, "(text, text) RETURNS void", OrderFunctionBody(target));
        AppendFunction(script, target.Function, "() RETURNS trigger", FunctionBody(target, "OLD"));
        AppendFunction(script, target.NewRowFunction, "() RETURNS trigger", FunctionBody(target, "NEW"));
        if (target.CompiledFunction is not null)
        {
            AppendCompiledFunction(script, target);
        }

        // No WHEN clause on the triggers that every legacy write meets: PostgreSQL reads each WHEN clause's stored
        // expression back once per statement, which cost more than the function's own test of the mark.
        string oldRow = CaptureCall(target, "OLD");
        string newRow = CaptureCall(target, "NEW");
        AppendTrigger(script, target, target.Trigger, "AFTER UPDATE OR DELETE", when: null, oldRow);
        AppendTrigger(script, target, target.InsertTrigger, "AFTER INSERT", when: null, newRow);
        // Only an UPDATE that sets the key meets this one: the others skip it on its column list, before its WHEN.
        AppendTrigger(
            script,
            target,
            target.RekeyTrigger,
            $"AFTER UPDATE OF {target.Key}",
            $"NEW.{target.Key} IS DISTINCT FROM OLD.{target.Key}",
            newRow
        );
        // An earlier version's order trigger, which ran before each row of a write-back, and its function.
        script
            .Append("DROP TRIGGER IF EXISTS ")
            .Append(target.OrderTrigger)
            .Append(" ON ")
            .Append(legacy)
            .Append(";\nDROP FUNCTION IF EXISTS ")
            .Append(target.OrderFunction)
            .Append("();\n");
        return script.ToString();
    }

    /// <summary>
    /// What a trigger executes for the key of <paramref name="row"/>: the PL/pgSQL capture function of that row, with
    /// the migration's name; or the compiled one, with the arguments it reads (see extensions/lazymigrate_capture),
    /// the PL/pgSQL function among them for a write-back's rows.
    /// </summary>
    private static string CaptureCall(TriggerTarget target, string row)
    {
        if (target.CompiledFunction is null)
        {
            return $"{RowFunction(target, row)}({target.MigrationLiteral})";
        }

        IEnumerable<string> arguments = CompiledArguments(target, row).Select(TriggerTarget.Quoted);
        return $"{target.CompiledFunction}({string.Join(", ", arguments)})";
    }

    /// <summary>The compiled capture's arguments for the key of <paramref name="row"/>, in its order.</summary>
    private static string[] CompiledArguments(TriggerTarget target, string row) =>
        [
            target.Migration,
            row,
            target.KeyName!,
            target.Captures.Qualified,
            PostgreSqlOutboxSchema.SequenceName(target.Outbox),
            RowFunction(target, row) + "()",
        ];

    /// <summary>The PL/pgSQL capture function of the key of <paramref name="row"/>, <c>OLD</c> or <c>NEW</c>.</summary>
    private static string RowFunction(TriggerTarget target, string row) =>
        row == "OLD" ? target.Function : target.NewRowFunction;

    /// <summary>
    /// The compiled capture function (a superuser's statement: <c>LANGUAGE c</c>), after a check of the key's type,
    /// which it captures as its output text: for the types it takes, the same text as the PL/pgSQL cast.
    /// </summary>
    private static void AppendCompiledFunction(StringBuilder script, TriggerTarget target)
    {
        string legacy = target.Legacy.Qualified;
        script
            .Append("-- The compiled capture: the server module ")
            .Append(TriggerTarget.CompiledSymbol)
            .Append(" must be installed (docs/postgresql.md); creating it needs a superuser.\n")
            .Append(
                $$"""
                DO $lazymigrate$
                BEGIN
                    IF (SELECT a.atttypid FROM pg_catalog.pg_attribute AS a
                            WHERE a.attrelid = '{{legacy}}'::regclass AND a.attname = '{{target.KeyName}}'
                                AND NOT a.attisdropped)
                        NOT IN ('text'::regtype, 'varchar'::regtype, 'int2'::regtype, 'int4'::regtype,
                            'int8'::regtype, 'uuid'::regtype) THEN
                        RAISE EXCEPTION USING ERRCODE = 'feature_not_supported', MESSAGE =
                            'LazyMigrate: the compiled capture takes a key of text, varchar, smallint, integer, '
                                || 'bigint or uuid';
                    END IF;
                END
                $lazymigrate$;

                """
            )
            .Append("CREATE OR REPLACE FUNCTION ")
            .Append(target.CompiledFunction)
            .Append("() RETURNS trigger LANGUAGE c AS '")
            .Append(TriggerTarget.CompiledSymbol)
            .Append("', '")
            .Append(TriggerTarget.CompiledSymbol)
            .Append("';\n")
            // Firing a trigger needs no EXECUTE: revoked, so that no other table's owner can attach the function.
            .Append("REVOKE EXECUTE ON FUNCTION ")
            .Append(target.CompiledFunction)
            .Append("() FROM PUBLIC;\n");
    }

    private static void AppendFunction(StringBuilder script, string function, string signature, string body) =>
        script
            .Append("CREATE OR REPLACE FUNCTION ")
            .Append(function)
            .Append(signature)
            .Append(" LANGUAGE plpgsql AS $lazymigrate$")
            .Append(body)
            .Append("$lazymigrate$;\n");

    /// <summary>
    /// A row trigger executing <paramref name="call"/>, with a <c>WHEN</c> clause that the executor evaluates before
    /// calling the function where <paramref name="when"/> is given.
    /// </summary>
    private static void AppendTrigger(
        StringBuilder script,
        TriggerTarget target,
        string trigger,
        string events,
        string? when,
        string call
    ) =>
        script
            .Append("DROP TRIGGER IF EXISTS ")
            .Append(trigger)
            .Append(" ON ")
            .Append(target.Legacy.Qualified)
            .Append(";\nCREATE TRIGGER ")
            .Append(trigger)
            .Append(' ')
            .Append(events)
            .Append(" ON ")
            .Append(target.Legacy.Qualified)
            .Append("\n    FOR EACH ROW ")
            .Append(when is null ? "" : $"WHEN ({when}) ")
            .Append("EXECUTE FUNCTION ")
            .Append(call)
            .Append(";\n");

    /// <summary>
    /// The body of a capture function, between its dollar quotes, for the key of <paramref name="row"/> (<c>OLD</c> or
    /// <c>NEW</c>): what <c>pg_proc.prosrc</c> holds once the script ran, which tells <see cref="CreateAsync"/> whether
    /// the function is up to date.
    /// </summary>
    private static string FunctionBody(TriggerTarget target, string row)
    {
        string key = $"{row}.{target.Key}::text";
        var body = new StringBuilder("\nBEGIN\n");
        body.Append(
                "    -- A write-back by LazyMigrate: never captured (no echo); checked against later old-API writes.\n"
            )
            .Append("    IF current_setting('")
            .Append(WriteBackMark.Setting)
            .Append("', true) = 'on' THEN\n        PERFORM ")
            .Append(target.OrderFunction)
            .Append("(TG_ARGV[0], ")
            .Append(key)
            .Append(");\n");
        if (row == "NEW")
        {
            AppendHiddenDeleteCheck(body, target);
        }

        body.Append("        RETURN NULL;\n    END IF;\n")
            .Append(
                "    -- One plain insert: the sequence and the time (the database's clock) are the table's defaults.\n"
            )
            .Append("    INSERT INTO ")
            .Append(target.Captures.Qualified)
            .Append(" (migration, entity_id) VALUES (TG_ARGV[0], ")
            .Append(key)
            .Append(");\n");
        if (target.NewStore is not null)
        {
            body.Append(
                    "    -- The new store's row, if it holds the id, is marked stale: its next read syncs it first.\n"
                )
                .Append("    UPDATE ")
                .Append(target.NewStore.Qualified)
                .Append(" SET stale = true WHERE id = ")
                .Append(key)
                .Append(" AND NOT stale;\n");
        }

        return body.Append("    RETURN NULL;\nEND\n").ToString();
    }

    /// <summary>
    /// A race that a snapshot older than the write-back's statement hides from the order check, inside a caller's
    /// transaction at repeatable read or serializable (where a write-back runs in a savepoint, at the caller's level):
    /// a legacy delete of the row that committed after the snapshot, which the write-back's upsert then inserts again.
    /// PostgreSQL fails the other races of one row itself (an update or a delete of a row changed since the snapshot,
    /// an insert over a row the snapshot does not see); this one shows as two rows of the key, the deleted one the
    /// snapshot still sees and the one just inserted, and fails with a serialization failure (SQLSTATE <c>40001</c>)
    /// too. One race stays hidden: a legacy insert and delete of a key that both committed after the snapshot leave no
    /// row it sees (docs/postgresql.md). The test of the level comes first, so that a write-back at read committed pays
    /// one simple expression for it.
    /// </summary>
    private static void AppendHiddenDeleteCheck(StringBuilder body, TriggerTarget target)
    {
        string legacy = target.Legacy.Qualified;
        string key = target.Key;
        string legacyLiteral = legacy.Replace("'", "''", StringComparison.Ordinal);
        body.Append(
            $$"""
                    -- Above read committed: a legacy delete unseen by this snapshot, undone by the write-back.
                    IF current_setting('transaction_isolation') NOT IN ('read committed', 'read uncommitted') THEN
                        IF (SELECT count(*) FROM {{legacy}} AS l WHERE l.{{key}} = NEW.{{key}}) > 1 THEN
                            RAISE EXCEPTION USING ERRCODE = 'serialization_failure', MESSAGE = format(
                                'LazyMigrate: the write-back of entity %s to %s raced an old-API delete of it that '
                                    || 'this transaction''s snapshot does not see; retry the transaction',
                                NEW.{{key}}, '{{legacyLiteral}}');
                        END IF;
                    END IF;

            """
        );
    }

    /// <summary>
    /// The check that keeps a write-back from overwriting a later old-API write: a write-back carries the new store's
    /// state as of its intent, and a forward sync recorded after that intent (a greater sequence, in an item or still
    /// a capture) means the row held a newer write, which must win. The capture functions call it for each row a
    /// marked transaction wrote, after it was written, so with the row locked: a legacy write to it that was in flight
    /// has committed its capture by then, and each query of the function sees it. It then fails the write-back with
    /// <see cref="WriteBackMark.SupersededState"/>, which rolls it back; the old store refuses that write-back
    /// (<see cref="SupersededWriteBacks"/>), and the forward sync brings the new store up to the row.
    /// </summary>
    private static string OrderFunctionBody(TriggerTarget target)
    {
        string t = target.Outbox.Qualified;
        int forwardSync = (int)OutboxItemKind.ForwardSync;
        int writeBack = (int)OutboxItemKind.WriteBack;
        return $$"""

            DECLARE
                written bigint;
            BEGIN
                written := coalesce((SELECT w.sequence FROM {{t}} AS w
                    WHERE w.migration = $1 AND w.kind = {{writeBack}} AND w.entity_id = $2), 0);
                IF EXISTS (SELECT FROM {{t}} AS f WHERE f.migration = $1 AND f.kind = {{forwardSync}}
                        AND f.entity_id = $2 AND f.sequence > written)
                    OR EXISTS (SELECT FROM {{target.Captures.Qualified}} AS c WHERE c.migration = $1
                        AND c.entity_id = $2 AND c.sequence > written) THEN
                    RAISE EXCEPTION USING ERRCODE = '{{WriteBackMark.SupersededState}}', MESSAGE = format(
                        'LazyMigrate: the write-back of entity %s to %s came before an old-API write of it; '
                            || 'the row stays as the old API wrote it', $2, '{{target.Legacy.Qualified.Replace(
                "'",
                "''",
                StringComparison.Ordinal
            )}}');
                END IF;
            END

            """;
    }

    /// <summary>
    /// Creates the triggers and their functions unless the legacy table has them all as this version makes them for
    /// these options, and replaces them otherwise: one missing or changed by hand, an earlier version's, or made for
    /// other options (<see cref="PostgreSqlForwardSyncTriggerOptions.NewStoreTable"/> set on a trigger created without
    /// it, another migration name). One query when they are up to date (no DDL privilege needed then), otherwise the
    /// script in a transaction, serialized across instances by an advisory lock.
    /// </summary>
    /// <param name="dataSource">The data source of the database of the legacy table and the outbox.</param>
    /// <param name="options">Where the trigger goes and what it records.</param>
    /// <param name="cancellationToken">The cancellation token.</param>
    /// <returns><see langword="true"/> when this call created (or replaced) the triggers.</returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="TimeoutException">
    /// A lock the script needs, the legacy table's above all, was not granted within
    /// <see cref="PostgreSqlForwardSyncTriggerOptions.LockTimeout"/>, or the wait for another instance's creation
    /// outlasted the command timeout: a transaction in flight holds it. Nothing was changed; call again later.
    /// </exception>
    /// <exception cref="InvalidOperationException">
    /// A table the triggers write to does not exist yet: the outbox's captures table (the outbox's schema creates it:
    /// <see cref="PostgreSqlOutboxOptions.CreateSchema"/>, <see cref="PostgreSqlOutboxSchema.CreateAsync"/> or its
    /// script), or, with <see cref="PostgreSqlForwardSyncTriggerOptions.NewStoreTable"/>, the new store's table or its
    /// <c>stale</c> column (the new store's schema: <see cref="PostgreSqlDocumentStoreOptions.CreateSchema"/>,
    /// <see cref="PostgreSqlDocumentStoreSchema.CreateAsync{TEntity}"/> or its script). The message names the table;
    /// the <see cref="PostgresException"/> is the inner exception. Nothing was changed.
    /// </exception>
    /// <exception cref="PostgresException">
    /// With <see cref="PostgreSqlForwardSyncTriggerOptions.CompiledCapture"/>, the script's own refusal: a key column
    /// of a type the compiled capture does not take (<c>0A000</c>), a server that cannot load the module
    /// (<c>58P01</c>), a role that is not a superuser (<c>42501</c>). Nothing was changed.
    /// </exception>
    public static async ValueTask<bool> CreateAsync(
        NpgsqlDataSource dataSource,
        PostgreSqlForwardSyncTriggerOptions options,
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        string script = CreateScript(options);
        var target = TriggerTarget.Of(options);
        try
        {
            return await PostgreSqlDocumentStoreSchema
                .CreateUnlessAsync(
                    dataSource,
                    (connection, ct) => ExistsAsync(connection, target, options.Migration, ct),
                    LockTimeoutSql(options) + script,
                    cancellationToken,
                    options.LockTimeout
                )
                .ConfigureAwait(false);
        }
        catch (PostgresException e) when (TriggerPrerequisites.Missing(target, e) is { } missing)
        {
            throw missing;
        }
        catch (NpgsqlException e)
            when (e is PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable }
                || e.InnerException is TimeoutException
            )
        {
            throw new TimeoutException(
                $"The forward sync trigger on {target.Legacy.Qualified} was not created: a lock it needs, the table's "
                    + $"above all, was not granted within {options.LockTimeout.TotalMilliseconds:0} ms (or, behind "
                    + "another instance's creation, within the command timeout), since a transaction in flight holds "
                    + "it. Nothing was changed; try again later, or with a longer LockTimeout.",
                e
            );
        }
    }

    /// <summary>
    /// The lock timeout of the script's transaction, set after the advisory lock that serializes creations (which
    /// waits for another instance's creation, not for the legacy application), as the new store's lock sets its own:
    /// a timeout of zero ("do not wait") is PostgreSQL's least, 1 ms.
    /// </summary>
    private static string LockTimeoutSql(PostgreSqlForwardSyncTriggerOptions options)
    {
        TimeSpan timeout = options.LockTimeout;
        if (timeout != Timeout.InfiniteTimeSpan && timeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(
                nameof(options),
                timeout,
                "LockTimeout must be zero or more, or Timeout.InfiniteTimeSpan to wait as long as it takes."
            );
        }

        return StoreLockSql.SetLockTimeout(timeout) + ";\n";
    }

    /// <summary>
    /// Whether the legacy table has this version's triggers for these options, all three and no other of
    /// LazyMigrate's: each enabled, on its events and columns, with its <c>WHEN</c> clause or none, passing the
    /// migration's name, and calling a function whose body is this version's; the order function's body this
    /// version's; and none of the functions and triggers earlier versions made and this one drops. A version that
    /// changes any trigger or function changes a body too (its comments if nothing else), so that this sees it.
    /// </summary>
    private static async ValueTask<bool> ExistsAsync(
        NpgsqlConnection connection,
        TriggerTarget target,
        string migration,
        CancellationToken cancellationToken
    )
    {
        var command = new NpgsqlCommand(InstalledSql, connection);
        await using (command.ConfigureAwait(false))
        {
            bool compiled = target.CompiledFunction is not null;
            string oldBody = FunctionBody(target, "OLD");
            string newBody = FunctionBody(target, "NEW");
            foreach (
                string value in (string[])
                    [
                        target.Legacy.Qualified,
                        target.Trigger,
                        target.InsertTrigger,
                        target.RekeyTrigger,
                        compiled ? TriggerTarget.CompiledSymbol : oldBody,
                        compiled ? TriggerTarget.CompiledSymbol : newBody,
                        target.OrderTrigger,
                        target.OrderFunction,
                        OrderFunctionBody(target),
                        target.Key,
                        target.Function,
                        oldBody,
                        target.NewRowFunction,
                        newBody,
                    ]
            )
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = value });
            }

            foreach (string row in (string[])["OLD", "NEW"])
            {
                string[] arguments = compiled ? CompiledArguments(target, row) : [migration];
                command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = arguments });
            }

            return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    /// <summary>
    /// The query of <see cref="ExistsAsync"/>, in the order of its parameters. <c>tgtype</c> is a row trigger (1),
    /// after the row, on an insert (4), a delete (8), an update (16); <c>tgargs</c> each argument and a zero byte
    /// (<c>$15</c> the arguments of the triggers that capture the old row's key, <c>$16</c> the new row's);
    /// <c>tgattr</c> the columns of <c>UPDATE OF</c> (the key's number for the re-key trigger); a trigger disabled, or
    /// enabled for replication sessions only (<c>tgenabled</c> other than <c>O</c> or <c>A</c>), is not there. The
    /// function a trigger calls has the source <c>$5</c> or <c>$6</c>: the PL/pgSQL bodies, or the compiled capture's
    /// symbol, and the PL/pgSQL capture functions are there with their bodies either way (the compiled capture hands
    /// them a write-back's rows). The functions are looked up in the catalog's tables, which the statement reads under
    /// its own snapshot, not with <c>to_regprocedure</c>, which reads the session's cache
    /// (<see cref="PostgreSqlDocumentStoreSchema"/>).
    /// </summary>
    private static readonly string InstalledSql = $"""
        SELECT (SELECT count(*) FROM pg_catalog.pg_trigger AS t JOIN pg_catalog.pg_proc AS p ON p.oid = t.tgfoid
                WHERE t.tgrelid = to_regclass($1)
                    AND t.tgenabled IN ('O', 'A')
                    AND ({Quoted("t.tgname")}, t.tgtype, t.tgqual IS NULL, p.prosrc, t.tgattr::text, t.tgargs)
                        IN (($2, 25, true, $5, '', {Arguments("$15")}), ($3, 5, true, $6, '', {Arguments("$16")}),
                            ($4, 17, false, $6,
                            (SELECT a.attnum::text FROM pg_catalog.pg_attribute AS a
                                WHERE a.attrelid = t.tgrelid AND {Quoted("a.attname")} = $10),
                            {Arguments("$16")}))) = 3
            AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger AS t
                WHERE t.tgrelid = to_regclass($1) AND {Quoted("t.tgname")} = $7)
            AND EXISTS ({FunctionsNamed("$8")} AND p.proargtypes = '25 25'::oidvector AND p.prosrc = $9)
            AND NOT EXISTS ({FunctionsNamed("$8")} AND p.pronargs = 0)
            AND EXISTS ({FunctionsNamed("$11")} AND p.pronargs = 0 AND p.prosrc = $12)
            AND EXISTS ({FunctionsNamed("$13")} AND p.pronargs = 0 AND p.prosrc = $14)
        """;

    /// <summary>A trigger's <c>tgargs</c> for the arguments in the text array <paramref name="parameter"/>.</summary>
    private static string Arguments(string parameter) =>
        "(SELECT string_agg(convert_to(u.a, current_setting('server_encoding')) || decode('00', 'hex'), "
        + $"''::bytea ORDER BY u.o) FROM unnest({parameter}::text[]) WITH ORDINALITY AS u(a, o))";

    /// <summary>The functions of the quoted, qualified name in <paramref name="parameter"/>, any arguments.</summary>
    private static string FunctionsNamed(string parameter) =>
        "SELECT FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace "
        + $"WHERE {Quoted("n.nspname")} || '.' || {Quoted("p.proname")} = {parameter}";

    /// <summary>
    /// SQL that quotes the name in <paramref name="column"/> as <see cref="PostgreSqlIdentifier"/> does (its names
    /// hold no quote), to compare it with the names of <see cref="TriggerTarget"/>.
    /// </summary>
    private static string Quoted(string column) => $"'\"' || {column} || '\"'";
}
