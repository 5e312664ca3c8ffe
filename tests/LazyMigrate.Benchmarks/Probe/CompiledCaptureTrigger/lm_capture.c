/*
 * Measurement only, never shipped: the capture of a legacy write as a compiled (C) trigger function, to learn what
 * the PL/pgSQL capture function's call and the planning of its insert cost a legacy write (docs/benchmarks.md,
 * "A compiled capture trigger"). It does what that function does for a legacy write: skip a write LazyMigrate marked
 * as a write-back, else append (migration, key, next sequence, clock) to the outbox's captures table and its unique
 * index, in the write's transaction. Straight heap and index inserts: no PL/pgSQL, no SPI, so no plan that a
 * DISCARD ALL could drop. Fixed to the benchmark's schema: the captures table and sequence of the default outbox in
 * "public", the key the legacy table's first column; the migration name is the trigger's argument.
 *
 * Build (needs the server's headers: apt-get install postgresql-server-dev-15): make -C <this folder>
 */
#include "postgres.h"
#include "fmgr.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

PG_MODULE_MAGIC;
PG_FUNCTION_INFO_V1(lm_capture);

/* Looked up once a session: a DISCARD ALL keeps them, as it keeps the relation cache. */
static Oid	captures_oid = InvalidOid;
static Oid	sequence_oid = InvalidOid;

Datum
lm_capture(PG_FUNCTION_ARGS)
{
	TriggerData *trigger = (TriggerData *) fcinfo->context;
	const char *mark = GetConfigOption("lazymigrate.write_back", true, false);
	TupleDesc	legacy;
	bool		isnull;
	Datum		key;
	Oid			output;
	bool		varlena;
	Relation	captures;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	EState	   *estate;
	ResultRelInfo *result;
	TupleTableSlot *slot;

	if (!CALLED_AS_TRIGGER(fcinfo) || trigger->tg_trigger->tgnargs != 1)
		elog(ERROR, "lm_capture: a row trigger with the migration's name as its one argument");
	legacy = RelationGetDescr(trigger->tg_relation);
	/* A write-back by LazyMigrate: never captured (no echo). */
	if (mark != NULL && strcmp(mark, "on") == 0)
		return PointerGetDatum(NULL);
	if (!OidIsValid(captures_oid))
	{
		captures_oid = RangeVarGetRelid(makeRangeVar("public", "lazymigrate_outbox_captures", -1), NoLock, false);
		sequence_oid = RangeVarGetRelid(makeRangeVar("public", "lazymigrate_outbox_sequence", -1), NoLock, false);
	}

	key = heap_getattr(trigger->tg_trigtuple, 1, legacy, &isnull);
	getTypeOutputInfo(TupleDescAttr(legacy, 0)->atttypid, &output, &varlena);
	values[0] = CStringGetTextDatum(trigger->tg_trigger->tgargs[0]);
	values[1] = CStringGetTextDatum(OidOutputFunctionCall(output, key));
	values[2] = DirectFunctionCall1(nextval_oid, ObjectIdGetDatum(sequence_oid));
	values[3] = TimestampTzGetDatum(GetCurrentTimestamp());

	captures = table_open(captures_oid, RowExclusiveLock);
	estate = CreateExecutorState();
	result = makeNode(ResultRelInfo);
	InitResultRelInfo(result, captures, 1, NULL, 0);
	ExecOpenIndices(result, false);
	slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(captures), &TTSOpsHeapTuple);
	ExecStoreHeapTuple(heap_form_tuple(RelationGetDescr(captures), values, nulls), slot, false);
	simple_table_tuple_insert(captures, slot);
	ExecInsertIndexTuples(result, slot, estate, false, false, NULL, NIL);
	ExecCloseIndices(result);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	table_close(captures, NoLock);
	return PointerGetDatum(NULL);
}
