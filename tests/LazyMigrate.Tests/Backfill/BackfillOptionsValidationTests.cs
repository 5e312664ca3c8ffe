using LazyMigrate.Backfill;
using LazyMigrate.Tests.Support;
using Microsoft.Extensions.Options;

namespace LazyMigrate.Tests.Backfill;

public sealed class BackfillOptionsValidationTests
{
    public static TheoryData<string, Action<BackfillOptions>> Invalid() =>
        new()
        {
            { "MinBatchSize (0)", o => o.MinBatchSize = 0 },
            { "MaxBatchSize (200000)", o => o.MaxBatchSize = 200_000 },
            { "InitialBatchSize must be between", o => o.InitialBatchSize = 10 },
            { "TargetBatchDuration must be between", o => o.TargetBatchDuration = TimeSpan.FromSeconds(-1) },
            { "MaxEntitiesPerSecond must be null or a positive number", o => o.MaxEntitiesPerSecond = 0 },
            { "LeaseDuration must be greater than 0", o => o.LeaseDuration = TimeSpan.Zero },
            { "LeasePollInterval must be greater than 0", o => o.LeasePollInterval = TimeSpan.FromDays(2) },
            { "DryRunFailuresKept must be between", o => o.DryRunFailuresKept = -1 },
            { "InstanceId must be null or 1 to 200 characters", o => o.InstanceId = "" },
        };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void AnInvalidOption_FailsAtStartUp_NamingTheMigrationAndTheOption(
        string expected,
        Action<BackfillOptions> configure
    )
    {
        var exception = Assert.Throws<OptionsValidationException>(() =>
            MigrationHarness.Create(configure: b => b.ConfigureBackfill(configure))
        );

        Assert.Contains($"Backfill of migration '{MigrationHarness.MigrationName}': ", exception.Message);
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDefaults_AreValid()
    {
        await using MigrationHarness harness = MigrationHarness.Create();

        Assert.False(harness.Backfill.IsPaused);
        Assert.Equal(MigrationHarness.MigrationName, harness.Backfill.MigrationName);
    }
}
