namespace LazyMigrate.Internal;

/// <summary>
/// One migration as the container holds it: its repository and its dispatcher, built together; disposed with the
/// container, it stops the dispatcher's background work.
/// </summary>
internal sealed class MigrationRuntime<TOld, TNew>(
    IMigratingRepository<TOld, TNew> repository,
    MigrationDispatcher<TOld, TNew> dispatcher
) : IAsyncDisposable, IDisposable
    where TOld : class
    where TNew : class
{
    public IMigratingRepository<TOld, TNew> Repository { get; } = repository;

    public MigrationDispatcher<TOld, TNew> Dispatcher { get; } = dispatcher;

    public ValueTask DisposeAsync() => Dispatcher.DisposeAsync();

    /// <summary>A container disposed synchronously stops the background work without waiting for it.</summary>
    public void Dispose() => Dispatcher.Stop();
}
