using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests.Outbox;

/// <summary>
/// Instances of the customer migration with <see cref="WriteBackMode.Async"/> over one in-memory outbox, whose
/// dispatchers run only when a test drains them (no background drain on write), on the shared fake clock.
/// </summary>
internal static class AsyncWriteBack
{
    public static MigrationHarness Create(
        SharedStores shared,
        InMemoryOutbox outbox,
        Action<OutboxOptions>? outboxOptions = null,
        Action<ILazyMigrationBuilder<OldCustomer, NewCustomer>>? configure = null,
        Action<LazyMigrationOptions>? options = null
    ) =>
        MigrationHarness.Create(
            shared,
            o =>
            {
                o.WriteBackMode = WriteBackMode.Async;
                options?.Invoke(o);
            },
            b =>
            {
                b.UseInMemoryOutbox(outbox)
                    .ConfigureOutbox(o =>
                    {
                        o.DispatchOnWrite = false;
                        outboxOptions?.Invoke(o);
                    });
                configure?.Invoke(b);
            }
        );

    /// <summary>Customer <paramref name="n"/> in its <paramref name="revision"/>th version.</summary>
    public static NewCustomer Revision(int n, int revision) =>
        new($"First{n}", $"Last{n}", $"c{n}.r{revision}@example.com");

    /// <summary>What the old store holds once <see cref="Revision"/> was written back.</summary>
    public static OldCustomer RevisionInOldStore(int n, int revision) =>
        new($"First{n} Last{n}", $"c{n}.r{revision}@example.com");

    /// <summary>The write-back item of <paramref name="id"/>, or null.</summary>
    public static OutboxItem? WriteBackOf(InMemoryOutbox outbox, string id) =>
        outbox.Snapshot().SingleOrDefault(i => i.Kind == OutboxItemKind.WriteBack && i.EntityId == id);
}
