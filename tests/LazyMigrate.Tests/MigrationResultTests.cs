namespace LazyMigrate.Tests;

/// <summary>A failed migration result has its own state: it can never be mistaken for an absent entity.</summary>
public sealed class MigrationResultTests
{
    [Fact]
    public void FailedResult_ReadsAsItsFailure_NeverAsAbsent()
    {
        var failure = new MigrationMappingException("Old->New", "42", "the mapper threw");
        MigrationResult<string> result = MigrationResult<string>.Failed(failure);

        Assert.True(result.IsFailure);
        Assert.Same(failure, Assert.Throws<MigrationMappingException>(() => result.Outcome));
        Assert.Same(failure, Assert.Throws<MigrationMappingException>(() => result.Value));
        Assert.Same(failure, result.Failure);
        Assert.Equal("failed", result.OutcomeTag);
    }

    [Fact]
    public void DefaultResult_HasNoOutcome()
    {
        MigrationResult<string> result = default;

        Assert.Throws<InvalidOperationException>(() => result.Outcome);
        Assert.Throws<InvalidOperationException>(() => result.Value);
    }

    [Fact]
    public void AbsentResult_IsAbsent_AndNoFailure()
    {
        MigrationResult<string> result = MigrationResult<string>.Absent();

        Assert.False(result.IsFailure);
        Assert.Null(result.Failure);
        Assert.Equal(MigrationOutcome.Absent, result.Outcome);
        Assert.Null(result.Value);
    }
}
