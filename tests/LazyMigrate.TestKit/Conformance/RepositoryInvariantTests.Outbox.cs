using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// <see cref="WriteBackMode.Async"/> through the outbox (docs/write-back.md) on the adapter's stores: every save and
/// delete reaches the old store once the dispatchers drained, from several instances writing and dispatching at once,
/// and through an old store that fails and recovers. Each test ends with the two stores agreeing and the outbox empty.
/// </summary>
public abstract partial class RepositoryInvariantTests
{
    /// <summary>
    /// Creates the outbox the instances of a test share: the adapter's own, or by default one in memory (the suite then
    /// checks the dispatchers over the adapter's stores, and the adapter's tests check its outbox).
    /// </summary>
    protected virtual Task<IMigrationOutbox> CreateOutboxAsync() =>
        Task.FromResult<IMigrationOutbox>(new InMemoryOutbox());

    private static void AsyncWriteBack(LazyMigrationOptions options) => options.WriteBackMode = WriteBackMode.Async;

    [Fact]
    public async Task AsyncWriteBack_EverySaveAndDeleteReachesTheOldStore_OnceDrained_AndTheOutboxEmpties()
    {
        var (old, counting) = await CreateStoresAsync(4);
        IMigrationOutbox outbox = await CreateOutboxAsync();
        await using var instance = await CreateInstanceAsync(
            old,
            counting,
            AsyncWriteBack,
            builder: b => b.UseOutbox(outbox).ConfigureOutbox(o => o.DispatchOnWrite = false)
        );
        var repository = Repository(instance);

        await repository.GetAsync(Id(0));
        await repository.SaveAsync(Id(1), Customer.Create(Id(1), 11));
        await repository.DeleteAsync(Id(2));
        await repository.SaveAsync("brand-new", Customer.Create("brand-new", 7));

        Assert.Equal(1, (await old.FindAsync(Id(1)))!.Version); // not yet: Async returned with the item recorded
        Assert.Equal(3, (await StatisticsAsync(instance)).Pending[OutboxItemKind.WriteBack]);
        await DrainAllAsync(instance);
        await AssertStoresAgreeAsync(old, counting, Id(0), Id(1), Id(2), "brand-new");
        Assert.Equal(3, (await old.FindAsync(Id(3)))!.Version); // never touched through the new API
        Assert.Equal(11, (await old.FindAsync(Id(1)))!.Version);
        Assert.Empty((await StatisticsAsync(instance)).Pending);
    }

    [Fact]
    public async Task AsyncWriteBack_TwoInstancesWritingAndDispatchingAtOnce_ManyRounds_BothStoresEndAlike()
    {
        const int Ids = 3;
        const int Rounds = 30;
        var (old, counting) = await CreateStoresAsync(Ids);
        IMigrationOutbox outbox = await CreateOutboxAsync();

        // Each write wakes its instance's dispatcher: both drain the one outbox while the writers go on.
        await using var first = await CreateInstanceAsync(
            old,
            counting,
            AsyncWriteBack,
            builder: b => b.UseOutbox(outbox)
        );
        await using var second = await CreateInstanceAsync(
            old,
            counting,
            AsyncWriteBack,
            builder: b => b.UseOutbox(outbox)
        );
        ServiceProvider[] instances = [first, second];

        await StartingGate.RunAsync(
            Writers,
            async writer =>
            {
                var repository = Repository(instances[writer % 2]);
                for (int round = 0; round < Rounds; round++)
                {
                    await WriteAsync(repository, Id(round % Ids), writer, round);
                }

                return writer;
            }
        );

        await DrainAllAsync(first, second);
        await AssertStoresAgreeAsync(old, counting, [.. Enumerable.Range(0, Ids).Select(Id)]);
        Assert.Empty((await StatisticsAsync(first)).Pending);
    }

    [Fact]
    public async Task AsyncWriteBack_AnOldStoreFailingEveryOtherWrite_ConvergesOnceTheRetriesComeDue()
    {
        var (old, counting) = await CreateStoresAsync(6);
        var failing = new FailingEveryOtherWrite(old);
        IMigrationOutbox outbox = await CreateOutboxAsync();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));
        await using var instance = await CreateInstanceAsync(
            failing,
            counting,
            o =>
            {
                AsyncWriteBack(o);
                o.MaxRetryAttempts = 0; // each failure is the outbox's to retry, at the time it stores
            },
            builder: b =>
            {
                b.Services.AddSingleton<TimeProvider>(time);
                b.UseOutbox(outbox).ConfigureOutbox(o => o.DispatchOnWrite = false);
            }
        );
        var repository = Repository(instance);
        string[] ids = [.. Enumerable.Range(0, 6).Select(Id)];
        foreach (string id in ids)
        {
            await repository.SaveAsync(id, Customer.Create(id, 50));
        }

        var dispatcher = instance.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>();
        await dispatcher.DrainAsync();
        Assert.True(failing.Failures > 0, "the old store failed no write");
        Assert.True((await StatisticsAsync(instance)).Pending.GetValueOrDefault(OutboxItemKind.WriteBack) > 0);
        for (int attempt = 0; attempt < 10 && (await StatisticsAsync(instance)).Pending.Count > 0; attempt++)
        {
            time.Advance(new OutboxOptions().MaxRetryDelay);
            await dispatcher.DrainAsync();
        }

        await AssertStoresAgreeAsync(old, counting, ids);
        Assert.Empty((await StatisticsAsync(instance)).Pending);
    }

    private static ValueTask<OutboxStatistics> StatisticsAsync(IServiceProvider instance) =>
        instance.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>().GetStatisticsAsync();

    private static async Task DrainAllAsync(params IServiceProvider[] instances)
    {
        foreach (IServiceProvider instance in instances)
        {
            await instance.GetRequiredService<IMigrationDispatcher<LegacyCustomer, Customer>>().DrainAsync();
        }
    }

    /// <summary>An old store whose writes fail every other time, as a flaky legacy database would.</summary>
    private sealed class FailingEveryOtherWrite(IOldStore<LegacyCustomer> inner) : IOldStore<LegacyCustomer>
    {
        private int _writes;
        private int _failures;

        public int Failures => Volatile.Read(ref _failures);

        public ValueTask<LegacyCustomer?> FindAsync(string id, CancellationToken cancellationToken = default) =>
            inner.FindAsync(id, cancellationToken);

        public ValueTask<IReadOnlyDictionary<string, LegacyCustomer>> FindManyAsync(
            IReadOnlyCollection<string> ids,
            CancellationToken cancellationToken = default
        ) => inner.FindManyAsync(ids, cancellationToken);

        public IAsyncEnumerable<KeyValuePair<string, LegacyCustomer>> ScanAsync(
            string? afterId,
            CancellationToken cancellationToken = default
        ) => inner.ScanAsync(afterId, cancellationToken);

        public void ValidateId(string id) => inner.ValidateId(id);

        public ValueTask UpsertAsync(string id, LegacyCustomer entity, CancellationToken cancellationToken = default) =>
            Fails()
                ? throw new TimeoutException("the legacy database did not answer")
                : inner.UpsertAsync(id, entity, cancellationToken);

        public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
            Fails()
                ? throw new TimeoutException("the legacy database did not answer")
                : inner.DeleteAsync(id, cancellationToken);

        private bool Fails()
        {
            if (Interlocked.Increment(ref _writes) % 2 == 0)
            {
                return false;
            }

            Interlocked.Increment(ref _failures);
            return true;
        }
    }
}
