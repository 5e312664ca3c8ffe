using LazyMigrate.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using NSubstitute;

namespace LazyMigrate.Tests;

public sealed class LoggingTests
{
    [Fact]
    public async Task Logs_NameTheEventsAndIds_NeverThePayloads()
    {
        var handler = Substitute.For<IEntityMigratedHandler<OldCustomer, NewCustomer>>();
        handler
            .HandleAsync(default!, default)
            .ReturnsForAnyArgs(ValueTask.FromException(new InvalidOperationException("handler down")));
        await using var harness = MigrationHarness
            .Create(configure: b =>
            {
                b.Services.AddLogging(logging => logging.AddFakeLogging().SetMinimumLevel(LogLevel.Debug));
                b.AddHandler(_ => handler);
            })
            .SeedLegacy(2);
        harness.Mapper.FailWhen = old => old == MigrationHarness.Legacy(1);

        await harness.Repository.GetAsync(MigrationHarness.Id(0));
        await Assert.ThrowsAsync<MigrationMappingException>(async () =>
            await harness.Repository.GetAsync(MigrationHarness.Id(1))
        );
        await harness.DrainAsync();

        var records = harness.Services.GetRequiredService<FakeLogCollector>().GetSnapshot();
        Assert.Contains(
            records,
            r => r.Id.Name == "EntityMigrated" && r.Message.Contains(MigrationHarness.Id(0), StringComparison.Ordinal)
        );
        Assert.Contains(records, r => r.Id.Name == "HandlerFailed" && r.Level == LogLevel.Error);
        Assert.Contains(records, r => r.Id.Name == "OutboxItemRetried" && r.Level == LogLevel.Warning);
        Assert.Contains(records, r => r.Id.Name == "MigrationFailed" && r.Exception is MigrationMappingException);
        Assert.All(records, r => Assert.DoesNotContain("@example.com", r.Message, StringComparison.Ordinal));
        Assert.All(records, r => Assert.DoesNotContain("First0", r.Message, StringComparison.Ordinal));
    }
}
