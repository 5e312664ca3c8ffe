using System.Runtime.ExceptionServices;

namespace LazyMigrate.Internal;

/// <summary>The outcome of migrating one id, with the value the new store holds afterwards, or the failure.</summary>
/// <remarks>
/// A failure is a state of its own, not an outcome: reading <see cref="Outcome"/> or <see cref="Value"/> of a failed
/// result throws the failure, so a caller that forgets to look at it can never take it for an absent entity. A
/// <see langword="default"/> result, which no migration produces, throws too.
/// </remarks>
internal readonly struct MigrationResult<TNew>
    where TNew : class
{
    private readonly State _state;
    private readonly TNew? _value;
    private readonly ExceptionDispatchInfo? _failure;

    private MigrationResult(State state, TNew? value, ExceptionDispatchInfo? failure)
    {
        _state = state;
        _value = value;
        _failure = failure;
    }

    // Unset comes first so that a default result is none of the others.
    private enum State
    {
        Unset,
        Migrated,
        AlreadyMigrated,
        Absent,
        Deleted,
        Failed,
    }

    /// <summary>Gets what the migration found or did.</summary>
    /// <exception cref="LazyMigrationException">The migration of this id failed: its failure, rethrown.</exception>
    public MigrationOutcome Outcome =>
        ThrowIfFailed()._state switch
        {
            State.Migrated => MigrationOutcome.Migrated,
            State.AlreadyMigrated => MigrationOutcome.AlreadyMigrated,
            State.Absent => MigrationOutcome.Absent,
            State.Deleted => MigrationOutcome.Deleted,
            _ => throw new InvalidOperationException("A default MigrationResult has no outcome."),
        };

    /// <summary>Gets the value the new store holds after the migration, or null when it holds none.</summary>
    /// <exception cref="LazyMigrationException">The migration of this id failed: its failure, rethrown.</exception>
    public TNew? Value =>
        ThrowIfFailed()._state != State.Unset
            ? _value
            : throw new InvalidOperationException("A default MigrationResult has no value.");

    public bool IsFailure => _state == State.Failed;

    /// <summary>Gets the failure of this id, or null when it did not fail.</summary>
    public LazyMigrationException? Failure => (LazyMigrationException?)_failure?.SourceException;

    /// <summary>Gets the low-cardinality metrics tag of the outcome.</summary>
    public string OutcomeTag =>
        _state switch
        {
            State.Migrated => "migrated",
            State.AlreadyMigrated => "already_migrated",
            State.Deleted => "deleted",
            State.Failed => "failed",
            _ => "absent",
        };

    /// <summary>Gets the read-source tag: which store answered the read this result ends.</summary>
    public string ReadSource =>
        _state switch
        {
            State.Migrated => ReadSources.Old,
            State.AlreadyMigrated => ReadSources.New,
            _ => ReadSources.None,
        };

    public static MigrationResult<TNew> Migrated(TNew value) => new(State.Migrated, value, null);

    public static MigrationResult<TNew> Absent() => new(State.Absent, null, null);

    /// <summary>
    /// The failure of one id; every caller that reads it rethrows the same exception, its stack kept.
    /// </summary>
    public static MigrationResult<TNew> Failed(LazyMigrationException exception) =>
        new(State.Failed, null, ExceptionDispatchInfo.Capture(exception));

    /// <summary>What a read of the new store means when a migration finds the entity already there, or gone.</summary>
    public static MigrationResult<TNew> FromNewStore(NewStoreRead<TNew> read) =>
        read.State switch
        {
            NewStoreState.Found => new(State.AlreadyMigrated, read.Value, null),
            NewStoreState.Deleted => new(State.Deleted, null, null),
            _ => Absent(),
        };

    public MigrationResult<TNew> ThrowIfFailed()
    {
        _failure?.Throw();
        return this;
    }
}
