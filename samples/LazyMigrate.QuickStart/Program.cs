// The LazyMigrate quick start: a legacy customer model moves to a new one, entity by entity, from an ordinary legacy
// table (integer keys, typed columns, a column the old model does not map) to a new database. Two SQLite files by
// default (no server needed), the legacy table read through the Entity Framework Core adapter; or PostgreSQL, the
// legacy table read through PostgreSqlTableOldStore. The new database goes through EF Core either way.
// It ends by backfilling what no read has moved, with a progress bar; --dry-run maps every legacy row instead and
// writes nothing. Run it with:
//   dotnet run --project samples/LazyMigrate.QuickStart
//     [-- [--records N] [--postgres "<connection string>"] [--dry-run]]
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using LazyMigrate;
using LazyMigrate.Backfill;
using LazyMigrate.EntityFrameworkCore;
using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.QuickStart;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static LazyMigrate.QuickStart.LegacyCustomers;
using static LazyMigrate.QuickStart.Story;

const string Usage =
    "usage: LazyMigrate.QuickStart [--records N] [--postgres \"<connection string>\"] [--dry-run]\n"
    + "  --records N    legacy records to seed, N >= 10; default 5000\n"
    + "  --postgres CS  use this PostgreSQL database (its schema "
    + SampleDatabase.PostgresSchema
    + " is created afresh) instead of two SQLite files\n"
    + "  --dry-run      only prove the mapper: map every legacy record, write nothing anywhere";
if (args is ["-h"] or ["--help"])
{
    Console.WriteLine(Usage);
    return 0;
}

if (!TryParseArguments(args, out int records, out string? postgres, out bool dryRun))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

var clock = Stopwatch.StartNew();
using var readsBySource = new ReadsBySource();
var story = new Story();

// The two databases: the legacy table is created and seeded by the legacy application's plain SQL, the new database
// starts empty.
await using SampleDatabase database = postgres is null ? SampleDatabase.Sqlite() : SampleDatabase.Postgres(postgres);
try
{
    await database.CreateAsync(records);
}
catch (System.Data.Common.DbException failure)
{
    Console.Error.WriteLine($"Could not create the databases ({database.Description}): {failure.Message}");
    return 1;
}

// The two stores: the old one over the legacy table (EF Core on SQLite, PostgreSqlTableOldStore on PostgreSQL), the
// new one EF Core, a context per call from a context factory, keyed by the model's (shadow) primary key. In an
// application, `.UseEntityFrameworkCoreNewStore<LegacyCustomer, Customer, CustomerDb, string>(db => db.Customers)`
// (or `.UsePostgreSqlTableOldStore(o => ...)`) builds them from the container; here they are built by hand and wrapped
// in counters, so that the story can show every call they get.
var old = new CountingOldStore<LegacyCustomer>(database.CreateOldStore());
var customerContexts = new PooledDbContextFactory<CustomerDb>(database.NewOptions);
var neu = new CountingNewStore<Customer>(
    new EntityFrameworkCoreNewStore<CustomerDb, Customer, string>(customerContexts, db => db.Customers)
);
var events = new ConcurrentQueue<EntityMigrated<LegacyCustomer, Customer>>();

// The whole set-up: one mapper class (a mapper, and a merger for write-back), one migration, its stores, its lock, an
// event callback and where its backfill keeps its checkpoint (the new database, through the context factory).
var services = new ServiceCollection();
services.AddSingleton<IDbContextFactory<CustomerDb>>(customerContexts);
services.AddLogging(logging =>
    logging
        .AddSimpleConsole(o => o.SingleLine = true)
        .SetMinimumLevel(LogLevel.Information)
        // A log line would tear the live progress bar: while it shows, only errors are written.
        .AddFilter((_, level) => !TerminalProgress.IsLive || level >= LogLevel.Error)
);
services.AddMigrationMapper<CustomerMapper>();
services
    .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Sync)
    .UseOldStore(old)
    .UseNewStore(neu)
    // one process: a distributed lock (LazyMigrate.DistributedLock) when several instances share the databases
    .UseInMemoryLock()
    .UseEntityFrameworkCoreBackfillCheckpoints<LegacyCustomer, Customer, CustomerDb>()
    .OnMigrated(
        (migrated, _) =>
        {
            events.Enqueue(migrated);
            return ValueTask.CompletedTask;
        }
    );

await using ServiceProvider provider = BuildAndValidate(services);
var customers = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();

// Events and write-back repairs are applied by the migration's dispatcher, off the reader's path: a host runs it
// (services.AddLazyMigrationDispatcher()); here the story waits for it with DrainAsync before it counts events.
var dispatcher = provider.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();

// The backfill moves what no read has: a host runs it in the background (services.AddLazyMigrationBackfill()), the
// story calls it at the end, or alone with --dry-run to prove the mapper first.
var backfill = provider.GetRequiredService<IBackfillRunner<LegacyCustomer, Customer>>();
if (dryRun)
{
    return await DryRunAsync();
}

Console.WriteLine($"LazyMigrate quick start: {N(records)} legacy customers, WriteBackMode.Sync");
Console.WriteLine($"   {database.Description}");
Console.WriteLine($"   old store: {database.OldStoreDescription}; new store: EntityFrameworkCoreNewStore, shadow key");

story.Step("The legacy table, created and seeded by the legacy application's plain SQL");
Say(
    $"legacy database: {N(await database.Legacy.CountAsync())} legacy_customers rows, "
        + $"new database: {N(await NewCountAsync())} customers rows"
);
Say($"row {Id(1)} = {await OldPeekAsync(Id(1))}");

// The first 500 (at most half): each read migrates its entity. The rest wait in the legacy database for their first
// read, or for a backfill.
int firstReads = Math.Min(records / 2, 500);
story.Step($"First reads migrate on demand: GetAsync({Id(1)}) .. GetAsync({Id(firstReads)})");
await dispatcher.DrainAsync();
(int reads, int inserts, int raised) = Counters();
int returned = 0;
for (int n = 1; n <= firstReads; n++)
{
    returned += await customers.GetAsync(Id(n)) is null ? 0 : 1;
}

Say($"{Id(1)} now reads as {(await NewPeekAsync(Id(1))).Value}");
story.Expect(returned == firstReads, $"{N(returned)} customers returned");
story.Expect(old.ReadCount - reads == firstReads, $"old-store reads: {N(old.ReadCount - reads)} (one per entity)");
story.Expect(neu.InsertCount - inserts == firstReads, $"new-store inserts: {N(neu.InsertCount - inserts)}");

const int Readers = 50;
string contested = Id(firstReads + 1);
story.Step($"{Readers} concurrent first reads of {contested} migrate it once (single-flight, then the lock)");
await dispatcher.DrainAsync();
(reads, inserts, raised) = Counters();
Customer?[] seen = await Task.WhenAll(
    Enumerable.Range(0, Readers).Select(_ => Task.Run(async () => await customers.GetAsync(contested)))
);
story.Expect(seen.All(c => c is not null && c == seen[0]), $"all {Readers} readers got {seen[0]}");

// Readers that miss the new store while the migration is in flight join it; one that missed it just as the migration
// finished takes the lock, reads the new store again and finds the entity there: one old-store read in all.
story.Expect(
    old.ReadCount - reads == 1,
    $"old-store reads: {old.ReadCount - reads} (the readers shared one migration)"
);
story.Expect(neu.InsertCount - inserts == 1, $"new-store inserts: {neu.InsertCount - inserts}");
await dispatcher.DrainAsync();
story.Expect(events.Count - raised == 1, $"EntityMigrated events: {events.Count - raised}");

story.Step($"A second read is served by the new store: GetAsync({Id(1)}) .. GetAsync({Id(firstReads)}) again");
await dispatcher.DrainAsync();
(reads, inserts, raised) = Counters();
for (int n = 1; n <= firstReads; n++)
{
    await customers.GetAsync(Id(n));
}

story.Expect(
    old.ReadCount == reads && neu.InsertCount == inserts,
    $"old-store reads: +{old.ReadCount - reads}, new-store inserts: +{neu.InsertCount - inserts}"
);
story.Expect(
    await customers.MigrateAsync(Id(1)) == MigrationOutcome.AlreadyMigrated,
    $"MigrateAsync({Id(1)}) returns {MigrationOutcome.AlreadyMigrated}"
);

string ada = Id(1);
story.Step($"A save through the new API reaches old readers (WriteBackMode.Sync): SaveAsync({ada})");
Customer before = (await customers.GetAsync(ada))!;
Customer changed = before with { LastName = "Byron", Phone = "+15550109999" };
await customers.SaveAsync(ada, changed);

// an old reader: it reads the legacy table directly, as the old API does
LegacyRow? oldView = await OldPeekAsync(ada);
Say($"new API saved   {changed}");
Say($"old reader sees {oldView}");
story.Expect(
    oldView is { FullName: var fullName, Phone: "(555) 010-9999" } && fullName == $"{before.FirstName} Byron",
    "the legacy table holds the change, merged back by CustomerMapper.MergeBack"
);
story.Expect(await customers.GetAsync(ada) == changed, "the new API reads the saved value");

string grace = Id(3);
story.Step($"A legacy-only column survives a write-back: SaveAsync({grace}) with a new phone number");
LegacyRow? rowBefore = await OldPeekAsync(grace);
await customers.SaveAsync(grace, (await customers.GetAsync(grace))! with { Phone = "+15550108888" });
LegacyRow? rowAfter = await OldPeekAsync(grace);
Say($"before {rowBefore}");
Say($"after  {rowAfter}");
story.Expect(rowAfter?.Phone == "(555) 010-8888", "the phone number, which the new model owns, changed");
story.Expect(
    rowBefore is not null && rowAfter?.CreditLimit == rowBefore.CreditLimit,
    $"credit_limit, mapped by the old model only, kept its value ({rowAfter?.CreditLimit}): "
        + "the merger took it from the current row"
);
story.Expect(
    rowBefore is not null && rowAfter?.UpdatedAt == rowBefore.UpdatedAt,
    $"updated_at, which the old model does not map, kept its value ({rowAfter?.UpdatedAt}): "
        + "the write-back touched only mapped columns"
);

string created = Id(records + 1);
story.Step(
    $"A customer created through the new API fits the legacy table: SaveAsync({created}), "
        + "then the legacy application's own INSERT"
);
await customers.SaveAsync(created, new Customer("Katherine", "Johnson", "+15550100000"));
LegacyRow? createdRow = await OldPeekAsync(created);
story.Expect(createdRow is not null, $"it reaches the legacy table as row {created}: {createdRow}");
story.Expect(
    createdRow is { CreditLimit: LegacyCustomers.DefaultCreditLimit, UpdatedAt: not null and not LegacyTable.SeededAt },
    "its legacy-only columns hold their defaults: "
        + $"credit_limit = {createdRow?.CreditLimit}, updated_at = {createdRow?.UpdatedAt} (the insert's time)"
);
string? legacyInsert = null;
try
{
    legacyInsert = await database.Legacy.InsertAsync("Dorothy Vaughan", "(555) 010-7777");
}
catch (System.Data.Common.DbException failure)
{
    Say($"the legacy INSERT failed: {failure.Message}");
}

story.Expect(
    legacyInsert is not null && int.Parse(legacyInsert, CultureInfo.InvariantCulture) > records + 1,
    $"the legacy application's next INSERT took key {legacyInsert ?? "(none)"}: past {created}, no collision"
);

string gone = Id(2);
story.Step($"A delete stays deleted: DeleteAsync({gone})");
await dispatcher.DrainAsync();
(reads, inserts, raised) = Counters();
await customers.DeleteAsync(gone);
story.Expect(await customers.GetAsync(gone) is null, "GetAsync returns null");
story.Expect(
    await customers.MigrateAsync(gone) == MigrationOutcome.Deleted,
    $"MigrateAsync returns {MigrationOutcome.Deleted}"
);
story.Expect(
    (await NewPeekAsync(gone)).State == NewStoreState.Deleted,
    $"the new store keeps a tombstone, so no migration brings it back: {await EntryOfAsync(gone)}"
);
story.Expect(await OldPeekAsync(gone) is null, "the legacy database no longer has it (write-back of the delete)");
story.Expect(old.ReadCount == reads && neu.InsertCount == inserts, "the old store was not read, nothing was inserted");

int side = Math.Min(100, firstReads / 2);
string unknown = Id(records * 10); // a key the legacy table has never had
List<string> batch = [.. Enumerable.Range(firstReads - side + 1, 2 * side).Select(Id), gone, unknown];
int alreadyThere = (await neu.FindManyAsync(batch)).Values.Count(read => read.State == NewStoreState.Found);
int toMigrate = 2 * side - alreadyThere;
story.Step($"GetManyAsync of {batch.Count} ids: {alreadyThere} migrated, {toMigrate} not yet, 1 deleted, 1 unknown");
await dispatcher.DrainAsync();
(reads, inserts, raised) = Counters();
IReadOnlyDictionary<string, Customer> found = await customers.GetManyAsync(batch);
story.Expect(
    found.Count == 2 * side,
    $"{N(found.Count)} customers returned; the deleted and the unknown id are left out"
);
story.Expect(
    old.ReadCount - reads == 1,
    $"old-store reads: {old.ReadCount - reads} (one batched call for every id the new store lacks)"
);
story.Expect(neu.InsertCount - inserts == toMigrate, $"new-store inserts: {neu.InsertCount - inserts}");

story.Step("EntityMigrated events (OnMigrated callback, delivered by the dispatcher)");
await dispatcher.DrainAsync();
story.Expect(
    events.Count == neu.InsertCount,
    $"{N(events.Count)} events: one per new-store insert; saves and deletes raise none"
);
story.Expect(
    events.Select(e => e.EventId).Distinct().Count() == events.Count,
    "each event has its own EventId (derived from the migration name and the entity id)"
);
EntityMigrated<LegacyCustomer, Customer> example = events.First();
Say($"e.g. EventId {example.EventId}");
Say(
    $"     MigrationName {example.MigrationName}, EntityId {example.EntityId}, Trigger {example.Trigger}, "
        + $"MigratedAt {example.MigratedAt.ToString("O", CultureInfo.InvariantCulture)}"
);
Say($"     OldValue {example.OldValue}");
Say($"     NewValue {example.NewValue}");

story.Step("A misconfiguration fails at start-up, not at the first read");
var broken = new ServiceCollection();
broken
    .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Async)
    .UseInMemoryOldStore()
    .UseInMemoryNewStore();
Say("AddLazyMigration with WriteBackMode.Async, no mapper, no lock:");
try
{
    await using ServiceProvider unused = BuildAndValidate(broken);
    story.Expect(false, "start-up validation rejects it");
}
catch (OptionsValidationException failure)
{
    foreach (string reason in failure.Failures)
    {
        Say($"  {reason}");
    }

    story.Expect(
        failure.Failures.Any(f => f.Contains("WriteBackMode.Async", StringComparison.Ordinal)),
        "OptionsValidationException at start-up, one line per problem"
    );
}

string unmappable = Id(Unmappable(records));
int legacyRowsBefore = await database.Legacy.CountAsync();
int waitingBefore = await NotYetMigratedAsync();
story.Step($"The backfill moves the rest: RunAsync over the {N(waitingBefore)} legacy rows no read or save has moved");
await dispatcher.DrainAsync();
(reads, inserts, raised) = Counters();
BackfillSummary backfilled = await TerminalProgress.RunAsync("backfill", progress => backfill.RunAsync(progress));
await dispatcher.DrainAsync();
Say(
    $"{N(backfilled.Counts.Scanned)} scanned in {backfilled.Batches} batches, "
        + $"{backfilled.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s"
);
story.Expect(backfilled.IsComplete, "the scan reached the end of the legacy table (IsComplete)");
story.Expect(
    backfilled.Counts.Scanned == legacyRowsBefore,
    $"every legacy row scanned once: {N(backfilled.Counts.Scanned)}"
);
story.Expect(
    backfilled.Counts.Migrated == waitingBefore - 1 && neu.InsertCount - inserts == waitingBefore - 1,
    $"{N(backfilled.Counts.Migrated)} migrated: every row the new database lacked, but one"
);
story.Expect(
    backfilled.Counts.AlreadyPresent == legacyRowsBefore - waitingBefore,
    $"{N(backfilled.Counts.AlreadyPresent)} already in the new database (moved on read, or saved): "
        + "insert-if-absent left them as they were"
);
IReadOnlyList<QuarantinedEntity> quarantined = await backfill.GetQuarantinedAsync();
story.Expect(
    backfilled.Counts.Quarantined == 1 && quarantined is [{ EntityId: var held }] && held == unmappable,
    $"1 quarantined, and the backfill went on past it: {unmappable}, "
        + $"{FirstLine(quarantined.FirstOrDefault()?.Error)}"
);
story.Expect(
    events.Count(e => e.Trigger == MigrationTrigger.Backfill) == backfilled.Counts.Migrated,
    "EntityMigrated events with Trigger Backfill: one per insert, delivered by the dispatcher"
);

story.Step($"The legacy application fixes {unmappable}'s name, and the quarantine is retried: RetryQuarantinedAsync");
await database.Legacy.UpsertAsync(Unmappable(records), new LegacyCustomer("Cher Sarkisian", "(555) 010-4242", 1_000));
QuarantineRetrySummary retried = await backfill.RetryQuarantinedAsync();
await dispatcher.DrainAsync();
story.Expect(
    retried is { Retried: 1, Migrated: 1, StillQuarantined: 0 },
    $"retried {retried.Retried}, migrated {retried.Migrated}, still quarantined {retried.StillQuarantined}"
);
story.Expect((await backfill.GetQuarantinedAsync()).Count == 0, "the quarantine is empty");
story.Expect(
    (await NewPeekAsync(unmappable)).Value is { LastName: "Sarkisian" },
    $"{unmappable} reads as {(await NewPeekAsync(unmappable)).Value}"
);
story.Expect(await NotYetMigratedAsync() == 0, "every legacy row is in the new database: the migration is finished");
BackfillSummary again = await backfill.RunAsync();
story.Expect(
    again is { IsComplete: true, Counts.Scanned: 0 },
    "a second RunAsync scans nothing: a completed backfill is not started over"
);

int legacyRows = await database.Legacy.CountAsync();
int onRead = events.Count(e => e.Trigger == MigrationTrigger.OnDemand);
int byBackfill = events.Count(e => e.Trigger == MigrationTrigger.Backfill);
const int CreatedThroughNewApi = 1;
Console.WriteLine();
Console.WriteLine("Summary: what each path moved");
Say($"legacy rows           {N(legacyRows)}, all of them now in the new database");
Say($"migrated on read      {N(onRead)} (GetAsync, GetManyAsync: events with Trigger OnDemand)");
Say($"migrated by backfill  {N(byBackfill)} (RunAsync, then the quarantine's retry: events with Trigger Backfill)");
Say($"saved (new API)       {N(neu.UpsertCount)}, {CreatedThroughNewApi} of them a new customer, written back");
Say($"deleted (new API)     {N(neu.DeleteCount)} (a tombstone in the new database, gone from the legacy table)");
Say($"already present       {N(backfilled.Counts.AlreadyPresent)} (scanned by the backfill, left as they were)");
Say($"quarantined           {N(backfilled.Counts.Quarantined)} (migrated by the retry after the fix)");
Say($"old-store reads       {N(old.ReadCount)} (migrations, and one per save: the merger's current row)");
Say($"old-store write-backs {N(old.WriteCount)} (every save and delete through the new API)");
story.Expect(
    old.WriteCount == neu.UpsertCount + neu.DeleteCount,
    "one write-back per save and delete, none for a migration"
);
Say(
    $"lazymigrate.reads     new={N(readsBySource["new"])} old={N(readsBySource["old"])} none={N(readsBySource["none"])}"
);

// The one deleted was migrated on read first: it counts among onRead, and is in neither table any more.
story.Expect(
    onRead + byBackfill + CreatedThroughNewApi - neu.DeleteCount == legacyRows && await NewCountAsync() == legacyRows,
    "every legacy row came by exactly one path: on read + backfill + created through the new API - deleted"
);
return Finish();

// Only proves the mapper: maps every legacy row, and shows that nothing was written anywhere.
async Task<int> DryRunAsync()
{
    Console.WriteLine($"LazyMigrate quick start, dry run: {N(records)} legacy customers");
    Console.WriteLine($"   {database.Description}");
    story.Step("A dry run maps every legacy row and writes nothing: DryRunAsync");
    BackfillDryRunReport report = await TerminalProgress.RunAsync(
        "dry run",
        progress => backfill.DryRunAsync(progress)
    );
    Say(
        $"scanned {N(report.Scanned)}, mapped {N(report.Mapped)}, failed {N(report.Failed)}, "
            + $"{N((long)report.EntitiesPerSecond)}/s"
    );
    foreach (QuarantinedEntity failure in report.Failures)
    {
        Say($"failed  {failure.EntityId}: {FirstLine(failure.Error)}");
    }

    story.Expect(report.Scanned == records && report.Mapped == records - 1, "every legacy row mapped, but one");
    story.Expect(
        report is { Failed: 1, Failures: [{ EntityId: var failed }] } && failed == Id(Unmappable(records)),
        $"the one the mapper cannot map is named, with its error: {Id(Unmappable(records))}"
    );
    await dispatcher.DrainAsync();
    await using CustomerDb db = database.OpenNew();
    int rows =
        await db.Customers.CountAsync()
        + await db.Entries.CountAsync()
        + await db.Set<LazyMigrateBackfillCheckpoint>().CountAsync()
        + await db.Set<LazyMigrateQuarantinedEntity>().CountAsync();
    story.Expect(rows == 0, "the new database is as empty as it started: no customer, entry, checkpoint or quarantine");
    story.Expect(neu.InsertCount == 0 && events.IsEmpty, "no insert, no EntityMigrated event");
    story.Expect(
        await database.Legacy.CountAsync() == records && old.WriteCount == 0,
        $"the legacy table untouched: {N(records)} rows"
    );
    return Finish();
}

int Finish()
{
    Say(
        $"{story.Checks - story.Failures} of {story.Checks} checks held, "
            + $"in {clock.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s"
    );
    return story.Failures == 0 ? 0 : 1;
}

static string FirstLine(string? text) => text?.Split('\n', 2)[0].Trim() ?? "(none)";

(int OldReads, int NewInserts, int Events) Counters() => (old.ReadCount, neu.InsertCount, events.Count);

// Looks into the databases the way other programs would: the legacy application's plain SQL, a context of its own,
// outside the migration and its counters.
Task<LegacyRow?> OldPeekAsync(string id) => database.Legacy.FindAsync(id);

async Task<NewStoreRead<Customer>> NewPeekAsync(string id)
{
    await using CustomerDb db = database.OpenNew();
    Customer? customer = await db
        .Customers.AsNoTracking()
        .FirstOrDefaultAsync(c => EF.Property<string>(c, CustomerDb.Key) == id);
    bool tombstone = await db.Entries.AnyAsync(e =>
        e.EntityType == nameof(Customer) && e.EntityId == id && e.IsDeleted
    );
    return customer is not null ? NewStoreRead<Customer>.Found(customer)
        : tombstone ? NewStoreRead<Customer>.Deleted
        : NewStoreRead<Customer>.Missing;
}

async Task<string> EntryOfAsync(string id)
{
    await using CustomerDb db = database.OpenNew();
    LazyMigrateEntry entry = await db.Entries.AsNoTracking().SingleAsync(e => e.EntityId == id);
    return $"{LazyMigrateModelBuilderExtensions.DefaultTableName} row "
        + $"({entry.EntityType}, {entry.EntityId}, IsDeleted = {entry.IsDeleted})";
}

async Task<int> NewCountAsync()
{
    await using CustomerDb db = database.OpenNew();
    return await db.Customers.CountAsync();
}

// Legacy ids the new database has never held: no entry row (an entry is written with every insert, save and delete).
async Task<int> NotYetMigratedAsync()
{
    await using CustomerDb neuDb = database.OpenNew();
    var held = (await neuDb.Entries.Select(e => e.EntityId).ToListAsync()).ToHashSet(StringComparer.Ordinal);
    return (await database.Legacy.IdsAsync()).Count(id => !held.Contains(id));
}

// Builds the container the strict way and runs the start-up validation that IHost.StartAsync would run,
// so a missing mapper, store or lock, or a bad option, fails here.
static ServiceProvider BuildAndValidate(IServiceCollection services)
{
    ServiceProvider provider = services.BuildServiceProvider(
        new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }
    );
    try
    {
        provider.GetRequiredService<IStartupValidator>().Validate();
        return provider;
    }
    catch
    {
        provider.Dispose();
        throw;
    }
}

static bool TryParseArguments(string[] args, out int records, out string? postgres, out bool dryRun)
{
    records = 5_000;
    postgres = null;
    dryRun = false;
    for (int i = 0; i < args.Length; i++)
    {
        switch (args[i..])
        {
            case ["--records", string value, ..]
                when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out records) && records >= 10:
                i++;
                break;
            case ["--postgres", string connectionString, ..] when !string.IsNullOrWhiteSpace(connectionString):
                postgres = connectionString;
                i++;
                break;
            case ["--dry-run", ..]:
                dryRun = true;
                break;
            default:
                return false;
        }
    }

    return true;
}
