namespace LazyMigrate.TestKit.Conformance;

/// <summary>
/// Bad input is loud, never corrupting (docs/read-path.md): a mapper that throws inside a batch, a damaged old record
/// and an id the adapter cannot use, each a typed error naming the id, with nothing written for it.
/// </summary>
public abstract partial class RepositoryInvariantTests
{
    /// <summary>
    /// Gets an id the adapter cannot use. The default holds a NUL character, which no store can key on: the repository
    /// refuses it before any store call. An adapter whose keys are narrower than the core's names one only it refuses.
    /// </summary>
    protected virtual string UnusableId => "nul\0inside";

    /// <summary>
    /// Gets whether a damaged old record fails the whole old-store read it is part of, so that the other ids read with
    /// it fail with the same error (a query that cannot read one row returns none); false where it fails its own id
    /// alone.
    /// </summary>
    protected virtual bool DamagedRecordFailsItsWholeOldRead => false;

    /// <summary>
    /// Damages the old record of <paramref name="id"/> behind the store's back, as the adapter's storage can be
    /// damaged. The default writes, through the store itself, a record the mapper cannot read (a full name with no
    /// space): the only bad record a store of objects such as the in-memory one can hold, nothing in it can rot.
    /// </summary>
    protected virtual async Task DamageOldRecordAsync(IOldStore<LegacyCustomer> old, string id) =>
        await old.UpsertAsync(
            id,
            new LegacyCustomer
            {
                Id = id,
                FullName = "Unsplittable",
                Version = 1,
            }
        );

    /// <summary>
    /// Asserts that <paramref name="failure"/> is the error the adapter documents for a damaged old record of
    /// <paramref name="id"/>, its cause inside. The default, for <see cref="DamageOldRecordAsync"/>'s own damage: the
    /// mapper's failure.
    /// </summary>
    protected virtual void AssertDamagedRecordError(LazyMigrationException failure, string id)
    {
        var mapping = Assert.IsType<MigrationMappingException>(failure);
        Assert.Equal(id, mapping.EntityId);
        Assert.IsType<ArgumentOutOfRangeException>(mapping.InnerException);
    }

    [Fact]
    public async Task GetMany_AMapperThrowingForOneId_MigratesTheOthers_WritesNothingForIt_AndAfterAFixMigratesIt()
    {
        var (old, counting) = await CreateStoresAsync(3);
        bool broken = true;
        var mapper = new CountingMapper(failsFor: id => broken && id == Id(1));
        await using var instance = await CreateInstanceAsync(old, counting, mapper: mapper);
        var repository = Repository(instance);

        var failure = await Assert.ThrowsAsync<MigrationBatchException<Customer>>(async () =>
            await repository.GetManyAsync([Id(0), Id(1), Id(2)])
        );

        Assert.Equal([0, 2], failure.Found.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => f.Value.Version));
        var (failedId, cause) = Assert.Single(failure.Failures);
        Assert.Equal(Id(1), failedId);
        var mapping = Assert.IsType<MigrationMappingException>(cause);
        Assert.Equal(Id(1), mapping.EntityId);
        Assert.IsType<FormatException>(mapping.InnerException);
        Assert.Equal(NewStoreState.Missing, (await counting.FindAsync(Id(1))).State);
        await DrainEventsAsync();
        Assert.Equal([Id(0), Id(2)], _events.Select(e => e.EntityId).Order(StringComparer.Ordinal));

        broken = false;
        IReadOnlyDictionary<string, Customer> retried = await repository.GetManyAsync([Id(0), Id(1), Id(2)]);

        Assert.Equal([0, 1, 2], retried.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => f.Value.Version));
        Assert.Equal(3, counting.InsertedCount);
        await DrainEventsAsync();
        Assert.Equal([Id(0), Id(1), Id(2)], _events.Select(e => e.EntityId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Get_ADamagedOldRecord_IsATypedErrorNamingIt_AndWritesNothing()
    {
        var (old, counting) = await CreateStoresAsync(1);
        await DamageOldRecordAsync(old, Id(0));
        await using var instance = await CreateInstanceAsync(old, counting);

        var failure = await Assert.ThrowsAnyAsync<LazyMigrationException>(async () =>
            await Repository(instance).GetAsync(Id(0))
        );

        Assert.Equal(Id(0), failure.EntityId);
        AssertDamagedRecordError(failure, Id(0));
        Assert.Equal(NewStoreState.Missing, (await counting.FindAsync(Id(0))).State);
        Assert.Equal(0, counting.InsertedCount);
        await DrainEventsAsync();
        Assert.Empty(_events);
    }

    [Fact]
    public async Task GetMany_ADamagedOldRecord_FailsNamingIt_AndWritesNothingForIt_WhileMigratedIdsAreStillRead()
    {
        var (old, counting) = await CreateStoresAsync(3);
        await using var instance = await CreateInstanceAsync(old, counting);
        var repository = Repository(instance);
        Assert.Equal(0, (await repository.GetAsync(Id(0)))!.Version);
        await DamageOldRecordAsync(old, Id(1));

        var failure = await Assert.ThrowsAsync<MigrationBatchException<Customer>>(async () =>
            await repository.GetManyAsync([Id(0), Id(1), Id(2)])
        );

        AssertDamagedRecordError(failure.Failures[Id(1)], Id(1));
        Assert.Equal(NewStoreState.Missing, (await counting.FindAsync(Id(1))).State);
        await DrainEventsAsync();
        Assert.DoesNotContain(_events, e => e.EntityId == Id(1));
        if (DamagedRecordFailsItsWholeOldRead)
        {
            // The id read along with it fails with the same error, unwritten; read without it, it migrates.
            Assert.Equal([Id(0)], failure.Found.Keys);
            Assert.Same(failure.Failures[Id(1)], failure.Failures[Id(2)]);
            Assert.Equal(2, failure.Failures.Count);
            Assert.Equal(2, (await repository.GetAsync(Id(2)))!.Version);
        }
        else
        {
            Assert.Equal([Id(0), Id(2)], failure.Found.Keys.Order(StringComparer.Ordinal));
            Assert.Single(failure.Failures);
        }

        await DrainEventsAsync();
        Assert.Equal([Id(0), Id(2)], _events.Select(e => e.EntityId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AnIdTheAdapterCannotUse_IsAnInvalidEntityIdNamingIt_OnEveryCall_AndNothingIsWritten()
    {
        string unusable = UnusableId;
        var (old, counting) = await CreateStoresAsync(1);
        await using var instance = await CreateInstanceAsync(old, counting, o => o.WriteBackMode = WriteBackMode.Sync);
        var repository = Repository(instance);

        var get = await Assert.ThrowsAsync<InvalidEntityIdException>(async () => await repository.GetAsync(unusable));
        var migrate = await Assert.ThrowsAsync<InvalidEntityIdException>(async () =>
            await repository.MigrateAsync(unusable)
        );
        var save = await Assert.ThrowsAsync<InvalidEntityIdException>(async () =>
            await repository.SaveAsync(unusable, Customer.Create(unusable, 7))
        );
        var delete = await Assert.ThrowsAsync<InvalidEntityIdException>(async () =>
            await repository.DeleteAsync(unusable)
        );
        InvalidEntityIdException getMany = await GetManyRefusingAsync(repository, counting, unusable);

        Assert.All([get, migrate, save, delete, getMany], e => Assert.Equal(unusable, e.EntityId));
        Assert.Equal(0, counting.InsertedCount);
        await DrainEventsAsync();
        Assert.Empty(_events);
        Assert.Equal(NewStoreState.Missing, (await counting.FindAsync(Id(0))).State);
        Assert.Equal([Id(0)], await ScanIdsAsync(old));
        Assert.Equal(0, (await old.FindAsync(Id(0)))!.Version);
    }

    /// <summary>
    /// A batch holding an unusable id: the repository checks every id before the batch starts, so an id the core
    /// refuses is thrown as it is, with no store call; an id only the adapter refuses fails the batch's first read, and
    /// with it the whole batch, every id with that one error (docs/read-path.md).
    /// </summary>
    private static async Task<InvalidEntityIdException> GetManyRefusingAsync(
        IMigratingRepository<LegacyCustomer, Customer> repository,
        CountingNewStore<Customer> counting,
        string unusable
    )
    {
        if (IsRefusedByTheCore(unusable))
        {
            var refused = await Assert.ThrowsAsync<InvalidEntityIdException>(async () =>
                await repository.GetManyAsync([Id(0), unusable])
            );
            Assert.Equal(0, counting.FindCalls + counting.FindManyCalls);
            return refused;
        }

        var batch = await Assert.ThrowsAsync<MigrationBatchException<Customer>>(async () =>
            await repository.GetManyAsync([Id(0), unusable])
        );
        Assert.Empty(batch.Found);
        var invalid = Assert.IsType<InvalidEntityIdException>(batch.Failures[unusable]);
        Assert.Same(invalid, batch.Failures[Id(0)]);
        Assert.Equal(2, batch.Failures.Count);
        return invalid;
    }

    private static bool IsRefusedByTheCore(string id)
    {
        try
        {
            InvalidEntityIdException.ThrowIfInvalid(id);
            return false;
        }
        catch (InvalidEntityIdException)
        {
            return true;
        }
    }

    private static async Task<List<string>> ScanIdsAsync(IOldStore<LegacyCustomer> old)
    {
        var ids = new List<string>();
        await foreach (var (id, _) in old.ScanAsync(null))
        {
            ids.Add(id);
        }

        return ids;
    }
}
