using LazyMigrate.InMemory;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Benchmarks;

/// <summary>
/// Builds repositories over in-memory stores exactly as a user does: AddLazyMigration, the Use... calls,
/// BuildServiceProvider.
/// </summary>
internal static class InMemoryRepositories
{
    public static (ServiceProvider Services, IMigratingRepository<OldProfile, NewProfile> Repository) Build(
        INewStore<NewProfile> newStore,
        Action<ILazyMigrationBuilder<OldProfile, NewProfile>> configure,
        InMemoryOldStore<OldProfile>? oldStore = null
    )
    {
        var services = new ServiceCollection();
        ILazyMigrationBuilder<OldProfile, NewProfile> builder = services
            .AddLazyMigration<OldProfile, NewProfile>()
            .UseMapper(NewProfile.From)
            .UseInMemoryOldStore(oldStore ?? new InMemoryOldStore<OldProfile>())
            .UseNewStore(newStore)
            .UseInMemoryLock();
        configure(builder);
        ServiceProvider provider = services.BuildServiceProvider();
        return (provider, provider.GetRequiredService<IMigratingRepository<OldProfile, NewProfile>>());
    }
}
