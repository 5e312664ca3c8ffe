namespace LazyMigrate.Internal;

/// <summary>Why an outbox item was completed without a write: the values of the skipped counter's reason tag.</summary>
internal static class SkipReasons
{
    /// <summary>A write through the other API, recorded later, wins.</summary>
    public const string Superseded = "superseded";

    /// <summary>The target store already holds the state (an echo).</summary>
    public const string Unchanged = "unchanged";

    /// <summary>The new store lacks the entity: it migrates later, from fresh data.</summary>
    public const string NotMigrated = "not_migrated";
}
