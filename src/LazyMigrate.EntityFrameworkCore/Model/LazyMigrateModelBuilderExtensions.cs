using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore;

/// <summary>Maps LazyMigrate's own entity in a user's <see cref="DbContext"/> model.</summary>
public static class LazyMigrateModelBuilderExtensions
{
    /// <summary>The default table name of <see cref="LazyMigrateEntry"/>.</summary>
    public const string DefaultTableName = "LazyMigrateEntries";

    /// <summary>The default table name of <see cref="LazyMigrateOutboxItem"/>.</summary>
    public const string DefaultOutboxTableName = "LazyMigrateOutbox";

    /// <summary>The default table name of <see cref="LazyMigrateBackfillCheckpoint"/>.</summary>
    public const string DefaultBackfillCheckpointTableName = "LazyMigrateBackfillCheckpoints";

    /// <summary>The default table name of <see cref="LazyMigrateQuarantinedEntity"/>.</summary>
    public const string DefaultBackfillQuarantineTableName = "LazyMigrateBackfillQuarantine";

    /// <summary>
    /// Maps <see cref="LazyMigrateEntry"/>, the claims and tombstones of the new stores over this context. Call it in
    /// <c>OnModelCreating</c> of every context a new store uses, then create the table with your usual migrations (or
    /// <c>EnsureCreated</c>).
    /// </summary>
    /// <param name="modelBuilder">The model builder.</param>
    /// <param name="tableName">The table name.</param>
    /// <param name="schema">The schema, or <see langword="null"/> for the default one.</param>
    /// <returns>The model builder.</returns>
    public static ModelBuilder AddLazyMigrateEntries(
        this ModelBuilder modelBuilder,
        string tableName = DefaultTableName,
        string? schema = null
    )
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        modelBuilder.Entity<LazyMigrateEntry>(entry =>
        {
            entry.ToTable(tableName, schema);
            entry.HasKey(e => new { e.EntityType, e.EntityId });
            entry
                .Property(e => e.EntityType)
                .HasMaxLength(LazyMigrateEntry.MaxEntityTypeLength)
                .IsRequired()
                .ValueGeneratedNever();
            entry
                .Property(e => e.EntityId)
                .HasMaxLength(LazyMigrateEntry.MaxEntityIdLength)
                .IsRequired()
                .ValueGeneratedNever();
            entry.Property(e => e.IsDeleted).IsRequired();
        });
        return modelBuilder;
    }

    /// <summary>
    /// Maps <see cref="LazyMigrateOutboxItem"/>, the outbox of an <see cref="EntityFrameworkCoreOutbox{TContext}"/>
    /// over this context: one row per (migration, kind, entity id), times as Unix microseconds. Call it in
    /// <c>OnModelCreating</c> of the context the outbox uses (the new store's, so that each write and its intent commit
    /// together), then create the table with your usual migrations (or <c>EnsureCreated</c>).
    /// </summary>
    /// <param name="modelBuilder">The model builder.</param>
    /// <param name="tableName">The table name.</param>
    /// <param name="schema">The schema, or <see langword="null"/> for the default one.</param>
    /// <returns>The model builder.</returns>
    public static ModelBuilder AddLazyMigrateOutbox(
        this ModelBuilder modelBuilder,
        string tableName = DefaultOutboxTableName,
        string? schema = null
    )
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        ArgumentException.ThrowIfNullOrWhiteSpace(tableName);
        modelBuilder.Entity<LazyMigrateOutboxItem>(item =>
        {
            item.ToTable(tableName, schema);
            item.HasKey(i => new
            {
                i.Migration,
                i.Kind,
                i.EntityId,
            });
            item.Property(i => i.Migration)
                .HasMaxLength(LazyMigrateOutboxItem.MaxMigrationLength)
                .IsRequired()
                .ValueGeneratedNever();
            item.Property(i => i.Kind).IsRequired().ValueGeneratedNever();
            item.Property(i => i.EntityId)
                .HasMaxLength(LazyMigrateOutboxItem.MaxEntityIdLength)
                .IsRequired()
                .ValueGeneratedNever();
            item.Property(i => i.LeaseOwner).HasMaxLength(LazyMigrateOutboxItem.MaxLeaseOwnerLength);

            // The claim (due items of one migration, oldest due first) and the dead letters (oldest recorded first).
            item.HasIndex(i => new
            {
                i.Migration,
                i.IsDeadLettered,
                i.NextAttemptAtMicroseconds,
            });
            item.HasIndex(i => new
            {
                i.Migration,
                i.IsDeadLettered,
                i.RecordedAtMicroseconds,
            });

            // The greatest sequence, read by every record to give the next one.
            item.HasIndex(i => i.Sequence);
        });
        return modelBuilder;
    }

    /// <summary>
    /// Maps <see cref="LazyMigrateBackfillCheckpoint"/> and <see cref="LazyMigrateQuarantinedEntity"/>, the
    /// checkpoints, leases and quarantine of an <see cref="EntityFrameworkCoreBackfillCheckpointStore{TContext}"/> over
    /// this context: one checkpoint row per migration, one quarantine row per (migration, entity id), times as Unix
    /// microseconds. Call it in <c>OnModelCreating</c> of the context the store uses, then create the tables with your
    /// usual migrations (or <c>EnsureCreated</c>).
    /// </summary>
    /// <param name="modelBuilder">The model builder.</param>
    /// <param name="checkpointTableName">The checkpoint table's name.</param>
    /// <param name="quarantineTableName">The quarantine table's name.</param>
    /// <param name="schema">The schema, or <see langword="null"/> for the default one.</param>
    /// <returns>The model builder.</returns>
    public static ModelBuilder AddLazyMigrateBackfill(
        this ModelBuilder modelBuilder,
        string checkpointTableName = DefaultBackfillCheckpointTableName,
        string quarantineTableName = DefaultBackfillQuarantineTableName,
        string? schema = null
    )
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointTableName);
        ArgumentException.ThrowIfNullOrWhiteSpace(quarantineTableName);
        modelBuilder.Entity<LazyMigrateBackfillCheckpoint>(checkpoint =>
        {
            checkpoint.ToTable(checkpointTableName, schema);
            checkpoint.HasKey(c => c.Migration);
            checkpoint
                .Property(c => c.Migration)
                .HasMaxLength(LazyMigrateBackfillCheckpoint.MaxMigrationLength)
                .IsRequired()
                .ValueGeneratedNever();
            checkpoint.Property(c => c.Cursor).HasMaxLength(LazyMigrateBackfillCheckpoint.MaxCursorLength);
            checkpoint.Property(c => c.LeaseOwner).HasMaxLength(LazyMigrateBackfillCheckpoint.MaxLeaseOwnerLength);
        });
        modelBuilder.Entity<LazyMigrateQuarantinedEntity>(quarantined =>
        {
            quarantined.ToTable(quarantineTableName, schema);
            quarantined.HasKey(q => new { q.Migration, q.EntityId });
            quarantined
                .Property(q => q.Migration)
                .HasMaxLength(LazyMigrateQuarantinedEntity.MaxMigrationLength)
                .IsRequired()
                .ValueGeneratedNever();
            quarantined
                .Property(q => q.EntityId)
                .HasMaxLength(LazyMigrateQuarantinedEntity.MaxEntityIdLength)
                .IsRequired()
                .ValueGeneratedNever();
            quarantined.Property(q => q.Error).IsRequired();
        });
        return modelBuilder;
    }
}
