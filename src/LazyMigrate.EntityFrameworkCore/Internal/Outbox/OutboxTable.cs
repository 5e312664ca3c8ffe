using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// The outbox table as a context's model maps it: its name for messages, and, on PostgreSQL, the claim's SQL, built
/// from the model's names, each quoted by the provider; every value is a parameter.
/// </summary>
internal sealed class OutboxTable
{
    /// <summary>The provider whose claims use <c>FOR UPDATE SKIP LOCKED</c>.</summary>
    public const string NpgsqlProvider = "Npgsql.EntityFrameworkCore.PostgreSQL";

    private OutboxTable(string displayName, string? postgreSqlClaim)
    {
        DisplayName = displayName;
        PostgreSqlClaim = postgreSqlClaim;
    }

    /// <summary>Gets the table's name, schema-qualified when mapped to a schema.</summary>
    public string DisplayName { get; }

    /// <summary>
    /// Gets the claim on PostgreSQL, or <see langword="null"/> on other providers: {0} migration, {1} owner, {2} now,
    /// {3} lease until, {4} most items, times as Unix microseconds. Returns the leased rows, oldest due first.
    /// </summary>
    public string? PostgreSqlClaim { get; }

    /// <summary>The problem of a context's model for the outbox, or <see langword="null"/> when it fits.</summary>
    public static string? Problem(DbContext context) =>
        context.Model.FindEntityType(typeof(LazyMigrateOutboxItem)) is { } entity && entity.GetTableName() is not null
            ? null
            : $"The EF Core outbox needs LazyMigrate's outbox table in {context.GetType().Name}: "
                + "call modelBuilder.AddLazyMigrateOutbox() in its OnModelCreating.";

    /// <exception cref="InvalidOperationException">The model does not map the outbox table.</exception>
    public static OutboxTable Of(DbContext context)
    {
        if (Problem(context) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        IEntityType entity = context.Model.FindEntityType(typeof(LazyMigrateOutboxItem))!;
        string table = entity.GetTableName()!;
        string? schema = entity.GetSchema();
        string displayName = schema is null ? table : $"{schema}.{table}";
        return new OutboxTable(
            displayName,
            context.Database.ProviderName == NpgsqlProvider ? ClaimSql(context, entity, table, schema) : null
        );
    }

    /// <summary>
    /// The PostgreSQL adapter's claim over the model's names: the subquery leases rows it locks and skips rows another
    /// claim holds locked; under read committed, a row whose lease another claim committed meanwhile is checked again
    /// on its latest version, and fails the lease test.
    /// </summary>
    private static string ClaimSql(DbContext context, IEntityType entity, string table, string? schema)
    {
        ISqlGenerationHelper sql = context.GetService<ISqlGenerationHelper>();
        var store = StoreObjectIdentifier.Table(table, schema);

        // EF Core formats raw SQL with its parameters' placeholders: a brace in a name must not read as one.
        static string Escape(string quoted) =>
            quoted.Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal);
        string Column(string property) =>
            Escape(sql.DelimitIdentifier(entity.FindProperty(property)!.GetColumnName(store)!));

        string o = Escape(sql.DelimitIdentifier(table, schema));
        string migration = Column(nameof(LazyMigrateOutboxItem.Migration));
        string kind = Column(nameof(LazyMigrateOutboxItem.Kind));
        string id = Column(nameof(LazyMigrateOutboxItem.EntityId));
        string dead = Column(nameof(LazyMigrateOutboxItem.IsDeadLettered));
        string next = Column(nameof(LazyMigrateOutboxItem.NextAttemptAtMicroseconds));
        string owner = Column(nameof(LazyMigrateOutboxItem.LeaseOwner));
        string lease = Column(nameof(LazyMigrateOutboxItem.LeaseExpiresAtMicroseconds));
        return $"WITH claimed AS (UPDATE {o} AS o SET {owner} = {{1}}, {lease} = {{3}} "
            + $"WHERE (o.{migration}, o.{kind}, o.{id}) IN (SELECT d.{migration}, d.{kind}, d.{id} FROM {o} AS d "
            + $"WHERE d.{migration} = {{0}} AND NOT d.{dead} AND d.{next} <= {{2}} "
            + $"AND (d.{lease} IS NULL OR d.{lease} <= {{2}}) "
            + $"ORDER BY d.{next} LIMIT {{4}} FOR UPDATE SKIP LOCKED) "
            + "RETURNING o.*) "
            + $"SELECT * FROM claimed ORDER BY {next}";
    }
}
