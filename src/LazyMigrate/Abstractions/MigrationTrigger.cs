namespace LazyMigrate;

/// <summary>What caused an entity to migrate.</summary>
public enum MigrationTrigger
{
    /// <summary>A read or an explicit <see cref="IMigratingRepository{TOld, TNew}.MigrateAsync"/> call.</summary>
    OnDemand = 0,

    /// <summary>A backfill run over the old store.</summary>
    Backfill = 1,
}
