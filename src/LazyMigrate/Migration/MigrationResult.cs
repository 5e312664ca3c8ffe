using System.Runtime.ExceptionServices;

namespace LazyMigrate;

/// <summary>The outcome of migrating one id, with the value the new store holds afterwards, or the failure.</summary>
internal readonly struct MigrationResult<TNew>
    where TNew : class
{
    private readonly ExceptionDispatchInfo? _failure;

    private MigrationResult(MigrationOutcome outcome, TNew? value, ExceptionDispatchInfo? failure)
    {
        Outcome = outcome;
        Value = value;
        _failure = failure;
    }

    public MigrationOutcome Outcome { get; }

    public TNew? Value { get; }

    public bool IsFailure => _failure is not null;

    /// <summary>Gets the low-cardinality metrics tag of the outcome.</summary>
    public string OutcomeTag => IsFailure ? "failed" : Outcome switch
    {
        MigrationOutcome.Migrated => "migrated",
        MigrationOutcome.AlreadyMigrated => "already_migrated",
        MigrationOutcome.Deleted => "deleted",
        _ => "absent",
    };

    /// <summary>Gets the read-source tag: which store answered the read this result ends.</summary>
    public string ReadSource => Outcome switch
    {
        MigrationOutcome.Migrated => ReadSources.Old,
        MigrationOutcome.AlreadyMigrated => ReadSources.New,
        _ => ReadSources.None,
    };

    public static MigrationResult<TNew> Migrated(TNew value) => new(MigrationOutcome.Migrated, value, null);

    public static MigrationResult<TNew> Absent() => new(MigrationOutcome.Absent, null, null);

    public static MigrationResult<TNew> Failed(Exception exception) =>
        new(MigrationOutcome.Absent, null, ExceptionDispatchInfo.Capture(exception));

    /// <summary>What a read of the new store means when a migration finds the entity already there, or gone.</summary>
    public static MigrationResult<TNew> FromNewStore(NewStoreRead<TNew> read) => read.State switch
    {
        NewStoreState.Found => new(MigrationOutcome.AlreadyMigrated, read.Value, null),
        NewStoreState.Deleted => new(MigrationOutcome.Deleted, null, null),
        _ => Absent(),
    };

    public MigrationResult<TNew> ThrowIfFailed()
    {
        _failure?.Throw();
        return this;
    }
}
