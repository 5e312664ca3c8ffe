namespace LazyMigrate.Internal;

/// <summary>One migration as the container holds it: its repository and its dispatcher, built together.</summary>
internal sealed class MigrationRuntime<TOld, TNew>(
    IMigratingRepository<TOld, TNew> repository,
    MigrationDispatcher<TOld, TNew> dispatcher
)
    where TOld : class
    where TNew : class
{
    public IMigratingRepository<TOld, TNew> Repository { get; } = repository;

    public MigrationDispatcher<TOld, TNew> Dispatcher { get; } = dispatcher;
}
