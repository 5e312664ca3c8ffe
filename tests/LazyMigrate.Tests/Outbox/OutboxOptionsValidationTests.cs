using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LazyMigrate.Tests.Outbox;

/// <summary>Bad <see cref="OutboxOptions"/> fail the host's start, with a message naming the option.</summary>
public sealed class OutboxOptionsValidationTests
{
    public static TheoryData<string, Action<OutboxOptions>> BadOptions() =>
        new()
        {
            { nameof(OutboxOptions.BatchSize), o => o.BatchSize = 0 },
            { nameof(OutboxOptions.BatchSize), o => o.BatchSize = 10_001 },
            { nameof(OutboxOptions.MaxAttempts), o => o.MaxAttempts = 0 },
            { nameof(OutboxOptions.MaxParallelWrites), o => o.MaxParallelWrites = 0 },
            { nameof(OutboxOptions.LeaseDuration), o => o.LeaseDuration = TimeSpan.FromSeconds(-1) },
            { nameof(OutboxOptions.LeaseDuration), o => o.LeaseDuration = TimeSpan.Zero },
            { nameof(OutboxOptions.PollInterval), o => o.PollInterval = TimeSpan.FromSeconds(-1) },
            { nameof(OutboxOptions.HandlerTimeout), o => o.HandlerTimeout = TimeSpan.FromSeconds(-1) },
            { nameof(OutboxOptions.MaxRetryDelay), o => o.MaxRetryDelay = TimeSpan.FromSeconds(-1) },
            { nameof(OutboxOptions.RetryDelay), o => o.RetryDelay = TimeSpan.FromSeconds(-1) },
            {
                nameof(OutboxOptions.RetryDelay),
                o =>
                {
                    o.RetryDelay = TimeSpan.FromMinutes(10);
                    o.MaxRetryDelay = TimeSpan.FromMinutes(5);
                }
            },
            { nameof(OutboxOptions.DispatcherId), o => o.DispatcherId = "" },
        };

    /// <summary>A host with the customer migration, its dispatcher and these outbox options.</summary>
    private static IHost Build(Action<OutboxOptions> configure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder
            .Services.AddLazyMigration<OldCustomer, NewCustomer>()
            .UseMapper(new CustomerMapper())
            .UseInMemoryOldStore()
            .UseInMemoryNewStore()
            .UseInMemoryLock()
            .ConfigureOutbox(configure);
        builder.Services.AddLazyMigrationDispatcher();
        return builder.Build();
    }

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task ABadValue_FailsTheHostsStart_NamingTheOptionAndTheMigration(
        string option,
        Action<OutboxOptions> configure
    )
    {
        using IHost host = Build(configure);

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(
            failure.Failures,
            f =>
                f.StartsWith(
                    $"Outbox of migration '{MigrationHarness.MigrationName}': {option} must",
                    StringComparison.Ordinal
                )
        );
    }

    [Fact]
    public async Task TheDefaults_AndTheEdgesOfEachRange_StartTheHost()
    {
        using IHost host = Build(o =>
        {
            o.BatchSize = 1;
            o.MaxAttempts = 1;
            o.MaxParallelWrites = 1;
            o.RetryDelay = TimeSpan.Zero;
            o.MaxRetryDelay = TimeSpan.FromMilliseconds(1);
        });

        await host.StartAsync();
        await host.StopAsync();
    }
}
