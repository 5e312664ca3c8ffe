// The LazyMigrate quick start: a legacy customer model moves to a new one, entity by entity, on the in-memory adapters.
// Run it with: dotnet run --project samples/LazyMigrate.QuickStart [-- --records N]
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using LazyMigrate;
using LazyMigrate.InMemory;
using LazyMigrate.QuickStart;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static LazyMigrate.QuickStart.LegacyCustomers;
using static LazyMigrate.QuickStart.Story;

const string Usage = "usage: LazyMigrate.QuickStart [--records N]   (N >= 10 legacy records to seed; default 5000)";
if (args is ["-h"] or ["--help"])
{
    Console.WriteLine(Usage);
    return 0;
}

if (!TryParseRecords(args, out int records))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

var clock = Stopwatch.StartNew();
using var readsBySource = new ReadsBySource();
var story = new Story();

// The two stores. In production they are your old and new databases; the in-memory adapters let us look inside.
var old = new InMemoryOldStore<LegacyCustomer>();
var neu = new InMemoryNewStore<Customer>();
var events = new ConcurrentQueue<EntityMigrated<LegacyCustomer, Customer>>();

// The whole set-up: one mapper class (both ways), one migration, its stores, its lock and an event callback.
var services = new ServiceCollection();
services.AddLogging(logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
services.AddMigrationMapper<CustomerMapper>();
services.AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Sync)
    .UseInMemoryOldStore(old)
    .UseInMemoryNewStore(neu)
    .UseInMemoryLock()
    .OnMigrated((migrated, _) =>
    {
        events.Enqueue(migrated);
        return ValueTask.CompletedTask;
    });

await using ServiceProvider provider = BuildAndValidate(services);
var customers = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();

Console.WriteLine($"LazyMigrate quick start: {N(records)} legacy customers, in-memory stores, WriteBackMode.Sync");

story.Step("Seed the old store (the legacy system's data)");
for (int n = 1; n <= records; n++)
{
    old.Seed(Id(n), Create(n));
}

Say($"old store: {N(old.Count)} LegacyCustomer records, new store: {N(neu.Count)} Customer records");
Say($"{Id(1)} = {old.Peek(Id(1))}");

int half = records / 2;
story.Step($"First reads migrate on demand: GetAsync({Id(1)}) .. GetAsync({Id(half)})");
(int reads, int inserts, int raised) = Counters();
int returned = 0;
for (int n = 1; n <= half; n++)
{
    returned += await customers.GetAsync(Id(n)) is null ? 0 : 1;
}

Say($"{Id(1)} now reads as {neu.Peek(Id(1)).Value}");
story.Expect(returned == half, $"{N(returned)} customers returned");
story.Expect(old.ReadCount - reads == half, $"old-store reads: {N(old.ReadCount - reads)} (one per entity)");
story.Expect(neu.InsertCount - inserts == half, $"new-store inserts: {N(neu.InsertCount - inserts)}");

const int Readers = 50;
string contested = Id(half + 1);
story.Step($"{Readers} concurrent first reads of {contested} migrate it once (single-flight, then the lock)");
(reads, inserts, raised) = Counters();
Customer?[] seen = await Task.WhenAll(Enumerable.Range(0, Readers).Select(_ => Task.Run(async () => await customers.GetAsync(contested))));
story.Expect(seen.All(c => c is not null && c == seen[0]), $"all {Readers} readers got {seen[0]}");
story.Expect(old.ReadCount - reads == 1, $"old-store reads: {old.ReadCount - reads}");
story.Expect(neu.InsertCount - inserts == 1, $"new-store inserts: {neu.InsertCount - inserts}");
story.Expect(events.Count - raised == 1, $"EntityMigrated events: {events.Count - raised}");

story.Step($"A second read is served by the new store: GetAsync({Id(1)}) .. GetAsync({Id(half)}) again");
(reads, inserts, raised) = Counters();
for (int n = 1; n <= half; n++)
{
    await customers.GetAsync(Id(n));
}

story.Expect(old.ReadCount == reads && neu.InsertCount == inserts, $"old-store reads: +{old.ReadCount - reads}, new-store inserts: +{neu.InsertCount - inserts}");
story.Expect(await customers.MigrateAsync(Id(1)) == MigrationOutcome.AlreadyMigrated, $"MigrateAsync({Id(1)}) returns {MigrationOutcome.AlreadyMigrated}");

string ada = Id(1);
story.Step($"A save through the new API reaches old readers (WriteBackMode.Sync): SaveAsync({ada})");
Customer before = (await customers.GetAsync(ada))!;
Customer changed = before with { LastName = "Byron", Phone = "+15550109999" };
await customers.SaveAsync(ada, changed);
LegacyCustomer? oldView = old.Peek(ada); // an old reader: it reads the old store directly, as the old API does
Say($"new API saved   {changed}");
Say($"old reader sees {oldView}");
story.Expect(oldView == new LegacyCustomer($"{before.FirstName} Byron", "(555) 010-9999"), "the old store holds the change, mapped back by CustomerMapper.MapBack");
story.Expect(await customers.GetAsync(ada) == changed, "the new API reads the saved value");
string created = Id(records + 1);
await customers.SaveAsync(created, new Customer("Katherine", "Johnson", "+15550100000"));
story.Expect(old.Peek(created) is not null, $"a customer created through the new API ({created}) reaches the old store too: {old.Peek(created)}");

string gone = Id(2);
story.Step($"A delete stays deleted: DeleteAsync({gone})");
(reads, inserts, raised) = Counters();
await customers.DeleteAsync(gone);
story.Expect(await customers.GetAsync(gone) is null, "GetAsync returns null");
story.Expect(await customers.MigrateAsync(gone) == MigrationOutcome.Deleted, $"MigrateAsync returns {MigrationOutcome.Deleted}");
story.Expect(neu.Peek(gone).State == NewStoreState.Deleted, "the new store keeps a tombstone, so no migration brings it back");
story.Expect(old.Peek(gone) is null, "the old store no longer has it (write-back of the delete)");
story.Expect(old.ReadCount == reads && neu.InsertCount == inserts, "the old store was not read, nothing was inserted");

int side = Math.Min(100, half / 2);
List<string> batch = [.. Enumerable.Range(half - side + 1, 2 * side).Select(Id), gone, "customer-unknown"];
int alreadyThere = batch.Count(id => neu.Peek(id).State == NewStoreState.Found);
int toMigrate = 2 * side - alreadyThere;
story.Step($"GetManyAsync of {batch.Count} ids: {alreadyThere} migrated, {toMigrate} not yet, 1 deleted, 1 unknown");
(reads, inserts, raised) = Counters();
IReadOnlyDictionary<string, Customer> found = await customers.GetManyAsync(batch);
story.Expect(found.Count == 2 * side, $"{N(found.Count)} customers returned; the deleted and the unknown id are left out");
story.Expect(old.ReadCount - reads == 1, $"old-store reads: {old.ReadCount - reads} (one batched call for every id the new store lacks)");
story.Expect(neu.InsertCount - inserts == toMigrate, $"new-store inserts: {neu.InsertCount - inserts}");

story.Step("EntityMigrated events (OnMigrated callback)");
story.Expect(events.Count == neu.InsertCount, $"{N(events.Count)} events: one per new-store insert; saves and deletes raise none");
story.Expect(events.Select(e => e.EventId).Distinct().Count() == events.Count, "each event has its own EventId (derived from the migration name and the entity id)");
EntityMigrated<LegacyCustomer, Customer> example = events.First();
Say($"e.g. EventId {example.EventId}");
Say($"     MigrationName {example.MigrationName}, EntityId {example.EntityId}, Trigger {example.Trigger}, MigratedAt {example.MigratedAt.ToString("O", CultureInfo.InvariantCulture)}");
Say($"     OldValue {example.OldValue}");
Say($"     NewValue {example.NewValue}");

story.Step("A misconfiguration fails at start-up, not at the first read");
var broken = new ServiceCollection();
broken.AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Async).UseInMemoryOldStore().UseInMemoryNewStore();
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

    story.Expect(failure.Failures.Any(f => f.Contains("WriteBackMode.Async", StringComparison.Ordinal)), "OptionsValidationException at start-up, one line per problem");
}

int waiting = old.Snapshot().Keys.Count(id => neu.Peek(id).State == NewStoreState.Missing);
Console.WriteLine();
Console.WriteLine("Summary");
Say($"legacy records        {N(records)} ({N(waiting)} not read yet: they stay in the old store until first read)");
Say($"migrated on demand    {N(neu.InsertCount)} (new-store inserts = EntityMigrated events: {N(events.Count)})");
Say($"old-store reads       {N(old.ReadCount)}");
Say($"old-store write-backs {N(old.WriteCount)} (every save and delete through the new API)");
Say($"lazymigrate.reads     new={N(readsBySource["new"])} old={N(readsBySource["old"])} none={N(readsBySource["none"])}");
Say($"{story.Checks - story.Failures} of {story.Checks} checks held, in {clock.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s");
return story.Failures == 0 ? 0 : 1;

(int OldReads, int NewInserts, int Events) Counters() => (old.ReadCount, neu.InsertCount, events.Count);

// Builds the container the strict way and runs the start-up validation that IHost.StartAsync would run,
// so a missing mapper, store or lock, or a bad option, fails here.
static ServiceProvider BuildAndValidate(IServiceCollection services)
{
    ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
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

static bool TryParseRecords(string[] args, out int records)
{
    records = 5_000;
    if (args.Length == 0)
    {
        return true;
    }

    return args is ["--records", string value]
        && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out records)
        && records >= 10;
}
