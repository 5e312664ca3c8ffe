-- The forward sync trigger as the version before this one made it (commit 75e45b2) for LegacyTable = lc and
-- Migration = customers: its order trigger ran BEFORE each row of a write-back, and its re-key trigger on every UPDATE.
-- LazyMigrate forward sync: every row written to "public"."lc" through the old API is captured in "public"."lazymigrate_outbox_captures", in the write's transaction.
-- A write-back by LazyMigrate marks its transaction: the WHEN clauses skip its rows,
-- and only its rows meet the order trigger.
-- The outbox's captures table must be there (its schema script makes it; fails here otherwise).
SELECT entity_id FROM "public"."lazymigrate_outbox_captures" WHERE false;
CREATE OR REPLACE FUNCTION "public"."lc_lazymigrate_forward_sync"() RETURNS trigger LANGUAGE plpgsql AS $lazymigrate$
BEGIN
    -- One plain insert: the sequence and the time (the database's clock) are the table's defaults.
    INSERT INTO "public"."lazymigrate_outbox_captures" (migration, entity_id) VALUES (TG_ARGV[0], OLD."id"::text);
    RETURN NULL;
END
$lazymigrate$;
CREATE OR REPLACE FUNCTION "public"."lc_lazymigrate_forward_sync_new"() RETURNS trigger LANGUAGE plpgsql AS $lazymigrate$
BEGIN
    -- One plain insert: the sequence and the time (the database's clock) are the table's defaults.
    INSERT INTO "public"."lazymigrate_outbox_captures" (migration, entity_id) VALUES (TG_ARGV[0], NEW."id"::text);
    RETURN NULL;
END
$lazymigrate$;
DROP TRIGGER IF EXISTS "lazymigrate_forward_sync" ON "public"."lc";
CREATE TRIGGER "lazymigrate_forward_sync" AFTER UPDATE OR DELETE ON "public"."lc"
    FOR EACH ROW WHEN (current_setting('lazymigrate.write_back', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION "public"."lc_lazymigrate_forward_sync"(E'customers');
DROP TRIGGER IF EXISTS "lazymigrate_forward_sync_insert" ON "public"."lc";
CREATE TRIGGER "lazymigrate_forward_sync_insert" AFTER INSERT ON "public"."lc"
    FOR EACH ROW WHEN (current_setting('lazymigrate.write_back', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION "public"."lc_lazymigrate_forward_sync_new"(E'customers');
DROP TRIGGER IF EXISTS "lazymigrate_forward_sync_rekey" ON "public"."lc";
CREATE TRIGGER "lazymigrate_forward_sync_rekey" AFTER UPDATE ON "public"."lc"
    FOR EACH ROW WHEN (current_setting('lazymigrate.write_back', true) IS DISTINCT FROM 'on' AND NEW."id" IS DISTINCT FROM OLD."id") EXECUTE FUNCTION "public"."lc_lazymigrate_forward_sync_new"(E'customers');
CREATE OR REPLACE FUNCTION "public"."lc_lazymigrate_forward_sync_order"() RETURNS trigger LANGUAGE plpgsql AS $lazymigrate$
DECLARE
    entity text;
    written bigint;
BEGIN
    entity := CASE WHEN TG_OP = 'DELETE' THEN OLD."id" ELSE NEW."id" END::text;
    written := coalesce((SELECT w.sequence FROM "public"."lazymigrate_outbox" AS w
        WHERE w.migration = TG_ARGV[0] AND w.kind = 1 AND w.entity_id = entity), 0);
    IF EXISTS (SELECT FROM "public"."lazymigrate_outbox" AS f WHERE f.migration = TG_ARGV[0] AND f.kind = 3
            AND f.entity_id = entity AND f.sequence > written)
        OR EXISTS (SELECT FROM "public"."lazymigrate_outbox_captures" AS c WHERE c.migration = TG_ARGV[0]
            AND c.entity_id = entity AND c.sequence > written) THEN
        RETURN NULL;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$lazymigrate$;
DROP TRIGGER IF EXISTS "lazymigrate_forward_sync_order" ON "public"."lc";
CREATE TRIGGER "lazymigrate_forward_sync_order" BEFORE INSERT OR UPDATE OR DELETE ON "public"."lc"
    FOR EACH ROW WHEN (current_setting('lazymigrate.write_back', true) = 'on') EXECUTE FUNCTION "public"."lc_lazymigrate_forward_sync_order"(E'customers');

