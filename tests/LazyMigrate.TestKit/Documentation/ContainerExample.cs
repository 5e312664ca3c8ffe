using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.TestKit.Documentation;

/// <summary>
/// For examples that register on <c>services</c> and then read <c>provider</c> with no line between: the provider is
/// built on first use, after the example has registered everything.
/// </summary>
public abstract class ContainerExample : IDisposable
{
    private ServiceProvider? built;

    protected ServiceCollection services { get; } = new();

    protected ServiceProvider provider => built ??= services.BuildServiceProvider();

    public void Dispose()
    {
        built?.Dispose();
        GC.SuppressFinalize(this);
    }
}
