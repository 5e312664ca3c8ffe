namespace LazyMigrate.Internal;

/// <summary>
/// One migration as the container holds it: its repository, its dispatcher, its recorder of old-API changes and its
/// backfill, built together; disposed with the
/// container, it stops the dispatcher's background work.
/// </summary>
internal sealed class MigrationRuntime<TOld, TNew>(
    IMigratingRepository<TOld, TNew> repository,
    MigrationDispatcher<TOld, TNew> dispatcher,
    OldStoreChangeRecorder<TOld, TNew> changeRecorder,
    BackfillRunner<TOld, TNew> backfill
) : IAsyncDisposable, IDisposable
    where TOld : class
    where TNew : class
{
    public IMigratingRepository<TOld, TNew> Repository { get; } = repository;

    public MigrationDispatcher<TOld, TNew> Dispatcher { get; } = dispatcher;

    public OldStoreChangeRecorder<TOld, TNew> ChangeRecorder { get; } = changeRecorder;

    public BackfillRunner<TOld, TNew> Backfill { get; } = backfill;

    public ValueTask DisposeAsync() => Dispatcher.DisposeAsync();

    /// <summary>A container disposed synchronously stops the background work without waiting for it.</summary>
    public void Dispose() => Dispatcher.Stop();
}
