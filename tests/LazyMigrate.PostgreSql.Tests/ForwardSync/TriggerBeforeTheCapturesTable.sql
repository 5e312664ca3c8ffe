-- The forward sync trigger as LazyMigrate made it before the outbox's captures table (commit 926000a), for
-- a legacy table lc (id integer) and the default outbox: kept as it was, for the upgrade's test.
-- LazyMigrate forward sync: every row written to "public"."lc" through the old API is recorded in "public"."lazymigrate_outbox", in the write's transaction.
CREATE OR REPLACE FUNCTION "public"."lc_lazymigrate_forward_sync"() RETURNS trigger LANGUAGE plpgsql AS $lazymigrate$
BEGIN
    -- A write-back by LazyMigrate marks its transaction: it is not a write through the old API.
    IF current_setting('lazymigrate.write_back', true) = 'on' THEN
        RETURN NULL;
    END IF;
    -- The database's clock, the one time the outbox reads it: a trigger has no other.
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO "public"."lazymigrate_outbox" AS o (migration, kind, entity_id, version, payload, recorded_at, attempts, next_attempt_at, dead_lettered) 
        VALUES (TG_ARGV[0], 3, OLD."id"::text, 1, NULL, clock_timestamp(), 0, clock_timestamp(), false)
        ON CONFLICT (migration, kind, entity_id) DO UPDATE SET version = o.version + CASE WHEN o.kind = 2 THEN 0 ELSE 1 END, sequence = CASE WHEN o.kind = 2 THEN o.sequence ELSE nextval('"public"."lazymigrate_outbox_sequence"') END, attempts = CASE WHEN o.dead_lettered AND o.kind <> 2 THEN 0 ELSE o.attempts END, next_attempt_at = CASE WHEN o.dead_lettered AND o.kind <> 2 THEN EXCLUDED.recorded_at ELSE o.next_attempt_at END, dead_lettered = o.dead_lettered AND o.kind = 2;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW."id" IS DISTINCT FROM OLD."id") THEN
        INSERT INTO "public"."lazymigrate_outbox" AS o (migration, kind, entity_id, version, payload, recorded_at, attempts, next_attempt_at, dead_lettered) 
        VALUES (TG_ARGV[0], 3, NEW."id"::text, 1, NULL, clock_timestamp(), 0, clock_timestamp(), false)
        ON CONFLICT (migration, kind, entity_id) DO UPDATE SET version = o.version + CASE WHEN o.kind = 2 THEN 0 ELSE 1 END, sequence = CASE WHEN o.kind = 2 THEN o.sequence ELSE nextval('"public"."lazymigrate_outbox_sequence"') END, attempts = CASE WHEN o.dead_lettered AND o.kind <> 2 THEN 0 ELSE o.attempts END, next_attempt_at = CASE WHEN o.dead_lettered AND o.kind <> 2 THEN EXCLUDED.recorded_at ELSE o.next_attempt_at END, dead_lettered = o.dead_lettered AND o.kind = 2;
    END IF;
    RETURN NULL;
END
$lazymigrate$;
DROP TRIGGER IF EXISTS "lazymigrate_forward_sync" ON "public"."lc";
CREATE TRIGGER "lazymigrate_forward_sync" AFTER INSERT OR UPDATE OR DELETE ON "public"."lc"
    FOR EACH ROW EXECUTE FUNCTION "public"."lc_lazymigrate_forward_sync"(E'customers');
CREATE OR REPLACE FUNCTION "public"."lc_lazymigrate_forward_sync_order"() RETURNS trigger LANGUAGE plpgsql AS $lazymigrate$
DECLARE
    entity text;
BEGIN
    IF current_setting('lazymigrate.write_back', true) IS DISTINCT FROM 'on' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    entity := CASE WHEN TG_OP = 'DELETE' THEN OLD."id" ELSE NEW."id" END::text;
    IF EXISTS (SELECT FROM "public"."lazymigrate_outbox" AS f WHERE f.migration = TG_ARGV[0] AND f.kind = 3
        AND f.entity_id = entity AND f.sequence > coalesce((SELECT w.sequence FROM "public"."lazymigrate_outbox" AS w
            WHERE w.migration = TG_ARGV[0] AND w.kind = 1 AND w.entity_id = entity), 0)) THEN
        RETURN NULL;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$lazymigrate$;
DROP TRIGGER IF EXISTS "lazymigrate_forward_sync_order" ON "public"."lc";
CREATE TRIGGER "lazymigrate_forward_sync_order" BEFORE INSERT OR UPDATE OR DELETE ON "public"."lc"
    FOR EACH ROW EXECUTE FUNCTION "public"."lc_lazymigrate_forward_sync_order"(E'customers');

