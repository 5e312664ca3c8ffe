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
 * order check of a write-back (no echo, no clobber); the privileges (INSERT on the captures table or on the columns
 * the PL/pgSQL insert names, USAGE on the schema and the sequence, checked as the writer); the key as text (its type's
 * output, which is its text cast for the key types it accepts).
 *
 * Trigger arguments, in order: the migration's name; OLD or NEW, the row whose key is captured (for an update, OLD is
 * the row before it); the key column; the captures table and the outbox's sequence (qualified names); the PL/pgSQL
 * capture function of the same row (a regprocedure) for write-backs.
 *
 * Every argument is resolved again on every call, under the locks a plain INSERT would take, and checked before it is
 * used: no cache to go stale when a table is altered, dropped or re-created, and no argument a trigger's creator
 * chose (the function is revoked from PUBLIC, but a table owner may still attach it) that can make it write anything
 * but a captures row or call anything but a PL/pgSQL trigger function. The lookups are a few catalog cache reads,
 * against the planning they replace.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/proclang.h"
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
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(lazymigrate_capture);

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

/* The captures table's columns, as the outbox's schema script makes them, and what this function writes in each. */
enum
{
	COLUMN_MIGRATION,
	COLUMN_ENTITY_ID,
	COLUMN_SEQUENCE,
	COLUMN_RECORDED_AT,
	COLUMN_COUNT
};

static const char *const column_names[COLUMN_COUNT] = {"migration", "entity_id", "sequence", "recorded_at"};
static const Oid column_types[COLUMN_COUNT] = {TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID};

static void
fail_shape(Relation captures, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("LazyMigrate: the compiled capture cannot write the captures table \"%s\": %s",
					RelationGetRelationName(captures), why),
			 errhint("It writes (migration text, entity_id text, sequence bigint, recorded_at timestamptz) into a plain "
					 "table with no trigger, rule, row security, check constraint or deferred index, as the outbox's "
					 "schema script makes it.")));
}

/*
 * Maps the captures table's attributes to the columns written, under the lock that keeps its descriptor until the
 * transaction ends: attribute i takes column at[i], or NULL where it was dropped. Fails for anything an INSERT would do
 * that this one does not: another column (its default), a trigger, a rule, row security, a check constraint.
 */
static int *
columns_of(Relation captures)
{
	TupleDesc	desc = RelationGetDescr(captures);
	int		   *at = palloc(sizeof(int) * desc->natts);
	bool		seen[COLUMN_COUNT] = {false, false, false, false};
	int			i;
	int			c;

	if (captures->rd_rel->relkind != RELKIND_RELATION || captures->rd_rel->relispartition)
		fail_shape(captures, "it is not a plain table");
	/* What the table has now (relhastriggers and relhasrules stay set until a vacuum after a drop). */
	if (captures->trigdesc != NULL || captures->rd_rules != NULL || captures->rd_rel->relrowsecurity)
		fail_shape(captures, "it has a trigger, a rule or row security");
	if (desc->constr != NULL && desc->constr->num_check > 0)
		fail_shape(captures, "it has a check constraint");
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute attribute = TupleDescAttr(desc, i);

		at[i] = -1;
		if (attribute->attisdropped)
			continue;
		for (c = 0; c < COLUMN_COUNT; c++)
			if (strcmp(NameStr(attribute->attname), column_names[c]) == 0)
				break;
		if (c == COLUMN_COUNT || seen[c] || attribute->atttypid != column_types[c])
			fail_shape(captures, "its columns are not the outbox's");
		seen[c] = true;
		at[i] = c;
	}
	for (c = 0; c < COLUMN_COUNT; c++)
		if (!seen[c])
			fail_shape(captures, "its columns are not the outbox's");
	return at;
}

/* The writer may insert the row: INSERT on the table, or on the two columns the PL/pgSQL capture names. */
static void
check_insert(Relation captures, const int *at)
{
	Oid			relid = RelationGetRelid(captures);
	Oid			user = GetUserId();
	int			i;

	if (pg_class_aclcheck(relid, user, ACL_INSERT) == ACLCHECK_OK)
		return;
	for (i = 0; i < RelationGetDescr(captures)->natts; i++)
	{
		if ((at[i] == COLUMN_MIGRATION || at[i] == COLUMN_ENTITY_ID) &&
			pg_attribute_aclcheck(relid, i + 1, user, ACL_INSERT) != ACLCHECK_OK)
			aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(captures));
	}
}

/* The sequence the argument names, which must be one. */
static Oid
sequence_of(const char *name)
{
	Oid			sequence = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(name)), NoLock, false);

	if (get_rel_relkind(sequence) != RELKIND_SEQUENCE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("LazyMigrate: \"%s\" is not a sequence", name)));
	return sequence;
}

/* Appends the capture: the row and its index entries, as an INSERT of its columns would. */
static void
append(char **args, const char *key)
{
	Relation	captures;
	TupleDesc	desc;
	int		   *at;
	Datum	   *values;
	bool	   *nulls;
	Datum		written[COLUMN_COUNT];
	EState	   *estate;
	ResultRelInfo *result;
	TupleTableSlot *slot;
	int			i;

	/* The name looked up and locked at once, as a statement's would be: a table re-created meanwhile is found. */
	captures = table_open(RangeVarGetRelidExtended(makeRangeVarFromNameList(stringToQualifiedNameList(args[ARG_CAPTURES])),
												   RowExclusiveLock, 0, NULL, NULL),
						  NoLock);
	at = columns_of(captures);
	check_insert(captures, at);
	desc = RelationGetDescr(captures);

	written[COLUMN_MIGRATION] = CStringGetTextDatum(args[ARG_MIGRATION]);
	written[COLUMN_ENTITY_ID] = CStringGetTextDatum(key);
	written[COLUMN_SEQUENCE] = Int64GetDatum(nextval_internal(sequence_of(args[ARG_SEQUENCE]), true));
	written[COLUMN_RECORDED_AT] = TimestampTzGetDatum(GetCurrentTimestamp());
	values = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	for (i = 0; i < desc->natts; i++)
	{
		nulls[i] = at[i] < 0;
		values[i] = at[i] < 0 ? (Datum) 0 : written[at[i]];
	}

	estate = CreateExecutorState();
	result = makeNode(ResultRelInfo);
	InitResultRelInfo(result, captures, 1, NULL, 0);
	ExecOpenIndices(result, false);
	for (i = 0; i < result->ri_NumIndices; i++)
		if (!result->ri_IndexRelationDescs[i]->rd_index->indimmediate)
			fail_shape(captures, "it has a deferred unique index");
	slot = ExecInitExtraTupleSlot(estate, desc, &TTSOpsHeapTuple);
	ExecStoreHeapTuple(heap_form_tuple(desc, values, nulls), slot, false);
	simple_table_tuple_insert(captures, slot);
	ExecInsertIndexTuples(result, slot, estate, false, false, NULL, NIL);
	ExecCloseIndices(result);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	table_close(captures, NoLock);
}

/*
 * A write-back's row: the table's PL/pgSQL capture function runs its order check, as if the trigger had called it. It
 * must be a PL/pgSQL trigger function of no arguments the writer may execute; its result is not this one's (an AFTER
 * trigger returns NULL).
 */
static void
write_back(char **args, FunctionCallInfo fcinfo)
{
	Oid			function = DatumGetObjectId(DirectFunctionCall1(regprocedurein, CStringGetDatum(args[ARG_WRITE_BACK])));
	HeapTuple	proc;
	Form_pg_proc definition;
	bool		trigger_function;
	AclResult	allowed;
	FmgrInfo	call_info;

	LOCAL_FCINFO(call, 0);

	proc = SearchSysCache1(PROCOID, ObjectIdGetDatum(function));
	if (!HeapTupleIsValid(proc))
		elog(ERROR, "LazyMigrate: cache lookup failed for function %u", function);
	definition = (Form_pg_proc) GETSTRUCT(proc);
	trigger_function = definition->pronargs == 0 && definition->prorettype == TRIGGEROID &&
		definition->prolang == get_language_oid("plpgsql", false);
	ReleaseSysCache(proc);
	if (!trigger_function)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("LazyMigrate: \"%s\" is not a PL/pgSQL trigger function", args[ARG_WRITE_BACK])));
	allowed = pg_proc_aclcheck(function, GetUserId(), ACL_EXECUTE);
	if (allowed != ACLCHECK_OK)
		aclcheck_error(allowed, OBJECT_FUNCTION, get_func_name(function));

	check_stack_depth();
	fmgr_info(function, &call_info);
	InitFunctionCallInfoData(*call, &call_info, 0, InvalidOid, fcinfo->context, NULL);
	(void) FunctionCallInvoke(call);
}

/* The key of the row the trigger captures, as text: its type's output, which for the types taken is its text cast. */
static char *
key_of(TriggerData *data, char **args)
{
	TupleDesc	legacy = RelationGetDescr(data->tg_relation);
	AttrNumber	key = get_attnum(RelationGetRelid(data->tg_relation), args[ARG_KEY]);
	HeapTuple	row;
	Oid			type;
	Oid			output;
	bool		varlena;
	bool		isnull;
	Datum		value;

	if (key <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("LazyMigrate: \"%s\" has no key column \"%s\"",
						RelationGetRelationName(data->tg_relation), args[ARG_KEY])));
	type = TupleDescAttr(legacy, key - 1)->atttypid;
	if (type != TEXTOID && type != VARCHAROID && type != INT2OID && type != INT4OID && type != INT8OID &&
		type != UUIDOID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("LazyMigrate: the compiled capture takes a key of text, varchar, smallint, integer, bigint or "
						"uuid, not %s", format_type_be(type))));

	row = strcmp(args[ARG_ROW], "NEW") == 0 && TRIGGER_FIRED_BY_UPDATE(data->tg_event) ? data->tg_newtuple
		: data->tg_trigtuple;
	value = heap_getattr(row, key, legacy, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("LazyMigrate: a row of \"%s\" has no key (\"%s\" is null)",
						RelationGetRelationName(data->tg_relation), args[ARG_KEY])));
	getTypeOutputInfo(type, &output, &varlena);
	return OidOutputFunctionCall(output, value);
}

Datum
lazymigrate_capture(PG_FUNCTION_ARGS)
{
	TriggerData *data = (TriggerData *) fcinfo->context;
	char	  **args;
	const char *mark;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(data->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(data->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("LazyMigrate: lazymigrate_capture must be fired AFTER each row")));
	args = data->tg_trigger->tgargs;
	if (data->tg_trigger->tgnargs != ARG_COUNT ||
		(strcmp(args[ARG_ROW], "OLD") != 0 && strcmp(args[ARG_ROW], "NEW") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("LazyMigrate: trigger \"%s\" must pass lazymigrate_capture %d arguments, the second OLD or "
						"NEW", data->tg_trigger->tgname, ARG_COUNT)));

	/* A write-back by LazyMigrate: never captured (no echo); checked against later old-API writes. */
	mark = GetConfigOption("lazymigrate.write_back", true, false);
	if (mark != NULL && strcmp(mark, "on") == 0)
		write_back(args, fcinfo);
	else
		append(args, key_of(data, args));
	return PointerGetDatum(NULL);
}
