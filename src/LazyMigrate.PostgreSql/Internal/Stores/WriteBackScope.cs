namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The transaction a write-back's batch runs in (<see cref="WriteBackBatch"/>), chosen when its connection is opened,
/// since that is when the connection enlists in an ambient transaction or not.
/// </summary>
internal enum WriteBackScope
{
    /// <summary>A transaction of its own, at read committed.</summary>
    Transaction,

    /// <summary>A savepoint in the ambient transaction the connection enlisted in.</summary>
    Savepoint,

    /// <summary>The implicit transaction of the batch's one round trip (a multiplexing data source).</summary>
    Implicit,
}
