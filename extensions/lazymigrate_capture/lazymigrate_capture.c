/*
 * lazymigrate_capture: LazyMigrate's forward sync capture of legacy writes, compiled.
 *
 * The PL/pgSQL capture functions of PostgreSqlForwardSyncTrigger cost a one-row legacy write a third of its throughput
 * where the legacy pool resets its sessions (Npgsql's default DISCARD ALL): the reset drops the functions' plans, so
 * PostgreSQL plans their insert again on every write, on top of the PL/pgSQL call itself. This trigger function does
 * the same capture with neither: it appends (migration, key, next sequence, clock) to the outbox's captures table and
 * its indexes straight through the executor's insert API, in the legacy write's transaction, with no plan to drop
 * (docs/benchmarks.md). It is what the triggers call with PostgreSqlForwardSyncTriggerOptions.CompiledCapture.
 *
 * What it shares with the PL/pgSQL functions, so that the two capture alike: the write-back mark
 * (lazymigrate.write_back = on), for which it hands the row to the table's PL/pgSQL capture function, which runs the
 * order check of a write-back (no echo, no clobber); the privileges (INSERT on the captures table, USAGE on the
 * sequence, checked as the writer); the key as text (its type's output, which is its text cast for the key types it
 * accepts).
 *
 * Trigger arguments, in order: the migration's name; OLD or NEW, the row whose key is captured (for an update, OLD is
 * the row before it); the key column; the captures table and the outbox's sequence (qualified names); the PL/pgSQL
 * capture function of the same row (a regprocedure) for write-backs.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(lazymigrate_capture);

void		_PG_init(void);

/* The trigger's arguments. */
enum
{
	ARG_MIGRATION,
	ARG_ROW,
	ARG_KEY,
	ARG_CAPTURES,
	ARG_SEQUENCE,
	ARG_WRITE_BACK,
	ARG_COUNT
};

/* The captures table's columns, as the outbox's schema script makes them. */
#define CAPTURE_COLUMNS 4

/* What a trigger's arguments resolve to, looked up once and kept until the catalog changes. */
typedef struct CaptureTarget
{
	Oid			trigger;		/* the hash key: pg_trigger's oid */
	bool		valid;
	Oid			captures;
	Oid			sequence;
	Oid			writeBack;
	AttrNumber	key;
	bool		newRow;
	FmgrInfo	keyOutput;
} CaptureTarget;

static HTAB *targets = NULL;

/*
 * Any change to a relation or a function may rename, drop or alter what a target names: forget them all. Changes are
 * rare (DDL, and the statistics a vacuum writes), and a lookup again costs a few catalog cache reads.
 */
static void
forget_targets(void)
{
	HASH_SEQ_STATUS status;
	CaptureTarget *target;

	if (targets == NULL)
		return;
	hash_seq_init(&status, targets);
	while ((target = (CaptureTarget *) hash_seq_search(&status)) != NULL)
		target->valid = false;
}

static void
relation_changed(Datum arg, Oid relid)
{
	forget_targets();
}

static void
function_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	forget_targets();
}

void
_PG_init(void)
{
	CacheRegisterRelcacheCallback(relation_changed, (Datum) 0);
	CacheRegisterSyscacheCallback(PROCOID, function_changed, (Datum) 0);
}

/* Fails unless the captures table has the four columns of the outbox's schema script, none dropped. */
static void
check_captures(Relation captures)
{
	static const char *const names[CAPTURE_COLUMNS] = {"migration", "entity_id", "sequence", "recorded_at"};
	static const Oid types[CAPTURE_COLUMNS] = {TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID};
	TupleDesc	desc = RelationGetDescr(captures);
	int			i;

	if (desc->natts != CAPTURE_COLUMNS)
		goto mismatch;
	for (i = 0; i < CAPTURE_COLUMNS; i++)
	{
		Form_pg_attribute column = TupleDescAttr(desc, i);

		if (column->attisdropped || column->atttypid != types[i] || strcmp(NameStr(column->attname), names[i]) != 0)
			goto mismatch;
	}
	return;

mismatch:
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("LazyMigrate: the captures table \"%s\" does not have the columns the outbox's schema made",
					RelationGetRelationName(captures)),
			 errhint("Expected (migration text, entity_id text, sequence bigint, recorded_at timestamptz).")));
}

/* Resolves the trigger's arguments, once per trigger until the catalog changes. */
static CaptureTarget *
target_of(TriggerData *data)
{
	Trigger    *trigger = data->tg_trigger;
	char	  **args = trigger->tgargs;
	CaptureTarget *target;
	bool		found;
	Oid			keyType;
	Oid			output;
	bool		varlena;
	Relation	captures;

	if (targets == NULL)
	{
		HASHCTL		control;

		control.keysize = sizeof(Oid);
		control.entrysize = sizeof(CaptureTarget);
		targets = hash_create("LazyMigrate capture targets", 16, &control, HASH_ELEM | HASH_BLOBS);
	}

	target = (CaptureTarget *) hash_search(targets, &trigger->tgoid, HASH_ENTER, &found);
	if (found && target->valid)
		return target;

	target->valid = false;
	if (strcmp(args[ARG_ROW], "OLD") != 0 && strcmp(args[ARG_ROW], "NEW") != 0)
		elog(ERROR, "LazyMigrate: trigger \"%s\": the row argument must be OLD or NEW", trigger->tgname);
	target->newRow = strcmp(args[ARG_ROW], "NEW") == 0;
	target->key = get_attnum(RelationGetRelid(data->tg_relation), args[ARG_KEY]);
	if (target->key == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("LazyMigrate: the key column \"%s\" of \"%s\" does not exist",
						args[ARG_KEY], RelationGetRelationName(data->tg_relation))));
	keyType = TupleDescAttr(RelationGetDescr(data->tg_relation), target->key - 1)->atttypid;
	if (keyType != TEXTOID && keyType != VARCHAROID && keyType != INT2OID && keyType != INT4OID &&
		keyType != INT8OID && keyType != UUIDOID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("LazyMigrate: the compiled capture takes a key of text, varchar, smallint, integer, bigint or "
						"uuid, not %s", format_type_be(keyType))));
	getTypeOutputInfo(keyType, &output, &varlena);
	fmgr_info_cxt(output, &target->keyOutput, TopMemoryContext);

	target->captures = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(args[ARG_CAPTURES])),
										NoLock, false);
	target->sequence = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(args[ARG_SEQUENCE])),
										NoLock, false);
	target->writeBack = DatumGetObjectId(DirectFunctionCall1(regprocedurein, CStringGetDatum(args[ARG_WRITE_BACK])));
	captures = table_open(target->captures, AccessShareLock);
	check_captures(captures);
	table_close(captures, AccessShareLock);
	target->valid = true;
	return target;
}

/* A write-back's row: the table's PL/pgSQL capture function runs its order check, as it would have been called. */
static Datum
write_back(CaptureTarget *target, FunctionCallInfo fcinfo)
{
	FmgrInfo	function;

	LOCAL_FCINFO(call, 0);

	fmgr_info(target->writeBack, &function);
	InitFunctionCallInfoData(*call, &function, 0, InvalidOid, fcinfo->context, NULL);
	return FunctionCallInvoke(call);
}

/* Appends the capture: the row and its index entries, as an INSERT of the four columns would. */
static void
append(CaptureTarget *target, const char *migration, const char *key)
{
	Relation	captures;
	Datum		values[CAPTURE_COLUMNS];
	bool		nulls[CAPTURE_COLUMNS] = {false, false, false, false};
	AclResult	allowed;
	EState	   *estate;
	ResultRelInfo *result;
	TupleTableSlot *slot;

	allowed = pg_class_aclcheck(target->captures, GetUserId(), ACL_INSERT);
	if (allowed != ACLCHECK_OK)
		aclcheck_error(allowed, OBJECT_TABLE, get_rel_name(target->captures));

	captures = table_open(target->captures, RowExclusiveLock);
	values[0] = CStringGetTextDatum(migration);
	values[1] = CStringGetTextDatum(key);
	values[2] = Int64GetDatum(nextval_internal(target->sequence, true));
	values[3] = TimestampTzGetDatum(GetCurrentTimestamp());

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
}

Datum
lazymigrate_capture(PG_FUNCTION_ARGS)
{
	TriggerData *data = (TriggerData *) fcinfo->context;
	const char *mark;
	CaptureTarget *target;
	HeapTuple	row;
	Datum		key;
	bool		isnull;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(data->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(data->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("LazyMigrate: lazymigrate_capture must be fired AFTER each row")));
	if (data->tg_trigger->tgnargs != ARG_COUNT)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("LazyMigrate: trigger \"%s\" must pass lazymigrate_capture %d arguments",
						data->tg_trigger->tgname, ARG_COUNT)));

	target = target_of(data);

	/* A write-back by LazyMigrate: never captured (no echo); checked against later old-API writes. */
	mark = GetConfigOption("lazymigrate.write_back", true, false);
	if (mark != NULL && strcmp(mark, "on") == 0)
		return write_back(target, fcinfo);

	row = target->newRow && TRIGGER_FIRED_BY_UPDATE(data->tg_event) ? data->tg_newtuple : data->tg_trigtuple;
	key = heap_getattr(row, target->key, RelationGetDescr(data->tg_relation), &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("LazyMigrate: a row of \"%s\" has no key (\"%s\" is null)",
						RelationGetRelationName(data->tg_relation), data->tg_trigger->tgargs[ARG_KEY])));
	append(target, data->tg_trigger->tgargs[ARG_MIGRATION], OutputFunctionCall(&target->keyOutput, key));
	return PointerGetDatum(NULL);
}
