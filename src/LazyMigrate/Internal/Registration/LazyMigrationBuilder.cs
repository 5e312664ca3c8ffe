using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.Internal;

internal sealed class LazyMigrationBuilder<TOld, TNew>(IServiceCollection services, string name)
    : ILazyMigrationBuilder<TOld, TNew>
    where TOld : class
    where TNew : class
{
    public IServiceCollection Services { get; } = services;

    public string Name { get; } = name;
}
