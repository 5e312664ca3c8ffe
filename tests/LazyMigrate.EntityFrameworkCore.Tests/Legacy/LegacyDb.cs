using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace LazyMigrate.EntityFrameworkCore.Tests.Legacy;

/// <summary>
/// A row of the legacy table as the legacy application's EF Core model maps it: <c>UpdatedAt</c> is a legacy-only
/// property the new model does not know, and the table's <c>audit</c> column is not mapped at all.
/// </summary>
public sealed class LegacyContact
{
    public int Id { get; set; }

    public string FullName { get; set; } = "";

    public string? Phone { get; set; }

    public int Version { get; set; }

    public DateTime? UpdatedAt { get; set; }
}

/// <summary>The legacy application's context over <c>legacy_customers</c>, a table it did not create.</summary>
public sealed class LegacyDb(DbContextOptions<LegacyDb> options) : DbContext(options)
{
    public DbSet<LegacyContact> Customers => Set<LegacyContact>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.Entity<LegacyContact>(e =>
        {
            e.ToTable("legacy_customers");
            e.HasKey(c => c.Id);
            // The column is serial: the store writes explicit keys, so EF Core must not leave the key to the database.
            e.Property(c => c.Id).HasColumnName("id").ValueGeneratedNever();
            e.Property(c => c.FullName).HasColumnName("full_name");
            e.Property(c => c.Phone).HasColumnName("phone");
            e.Property(c => c.Version).HasColumnName("version");
            e.Property(c => c.UpdatedAt)
                .HasColumnName("updated_at")
                .HasDefaultValueSql(Database.IsNpgsql() ? "now()" : "CURRENT_TIMESTAMP");
        });
}

/// <summary>
/// The legacy table, created by raw SQL as the legacy application did (a serial key, a column no EF model maps), and
/// the legacy application's own statements on it.
/// </summary>
public static class LegacyTable
{
    public const string DefaultAudit = "legacy";

    public static async Task<ContextFactory<LegacyDb>> CreateAsync(
        TestDatabase database,
        bool autoincrement = false,
        params IInterceptor[] interceptors
    )
    {
        string connectionString = await database.NewConnectionStringAsync();
        DbContextOptions<LegacyDb> options = database
            .Configure(new DbContextOptionsBuilder<LegacyDb>(), connectionString)
            .AddInterceptors(interceptors)
            .Options;
        var factory = new ContextFactory<LegacyDb>(options, o => new LegacyDb(o), connectionString);
        await using LegacyDb db = factory.CreateDbContext();
        string ddl = db.Database.IsNpgsql()
            ? "CREATE TABLE legacy_customers (id serial PRIMARY KEY, full_name text NOT NULL, phone text, "
                + "version integer NOT NULL DEFAULT 0, updated_at timestamptz DEFAULT now(), "
                + $"audit text DEFAULT '{DefaultAudit}')"
            : $"CREATE TABLE legacy_customers (id INTEGER PRIMARY KEY{(autoincrement ? " AUTOINCREMENT" : "")}, "
                + "full_name TEXT NOT NULL, phone TEXT, version INTEGER NOT NULL DEFAULT 0, "
                + $"updated_at TEXT DEFAULT CURRENT_TIMESTAMP, audit TEXT DEFAULT '{DefaultAudit}')";
        await db.Database.ExecuteSqlRawAsync(ddl);
        return factory;
    }

    /// <summary>
    /// The legacy application's own insert: the key comes from the table (its sequence, or SQLite's rowid).
    /// </summary>
    public static async Task<int> InsertAsync(IDbContextFactory<LegacyDb> factory, string fullName)
    {
        await using LegacyDb db = factory.CreateDbContext();
        List<int> ids = await db
            .Database.SqlQueryRaw<int>(
                "INSERT INTO legacy_customers (full_name) VALUES ({0}) RETURNING id AS \"Value\"",
                fullName
            )
            .ToListAsync();
        return Assert.Single(ids);
    }

    /// <summary>A row as the legacy application wrote it, with a value in the column no EF model maps.</summary>
    public static async Task SeedAsync(
        IDbContextFactory<LegacyDb> factory,
        int id,
        string fullName,
        DateTime updatedAt,
        string audit
    )
    {
        await using LegacyDb db = factory.CreateDbContext();
        await db.Database.ExecuteSqlRawAsync(
            "INSERT INTO legacy_customers (id, full_name, phone, version, updated_at, audit) "
                + "VALUES ({0}, {1}, '555-0100', 1, {2}, {3})",
            id,
            fullName,
            updatedAt,
            audit
        );
    }

    public static async Task<string?> AuditOfAsync(IDbContextFactory<LegacyDb> factory, int id)
    {
        await using LegacyDb db = factory.CreateDbContext();
        List<string?> audits = await db
            .Database.SqlQueryRaw<string?>("SELECT audit AS \"Value\" FROM legacy_customers WHERE id = {0}", id)
            .ToListAsync();
        return Assert.Single(audits);
    }
}

/// <summary>Records the text of every command a context sends.</summary>
public sealed class CommandLog : DbCommandInterceptor
{
    private readonly ConcurrentQueue<string> _commands = new();

    public IReadOnlyCollection<string> Commands => _commands;

    public void Clear() => _commands.Clear();

    public override InterceptionResult<DbDataReader> ReaderExecuting(
        DbCommand command,
        CommandEventData eventData,
        InterceptionResult<DbDataReader> result
    )
    {
        _commands.Enqueue(command.CommandText);
        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command,
        CommandEventData eventData,
        InterceptionResult<DbDataReader> result,
        CancellationToken cancellationToken = default
    )
    {
        _commands.Enqueue(command.CommandText);
        return ValueTask.FromResult(result);
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
        DbCommand command,
        CommandEventData eventData,
        InterceptionResult<int> result,
        CancellationToken cancellationToken = default
    )
    {
        _commands.Enqueue(command.CommandText);
        return ValueTask.FromResult(result);
    }

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(
        DbCommand command,
        CommandEventData eventData,
        InterceptionResult<object> result,
        CancellationToken cancellationToken = default
    )
    {
        _commands.Enqueue(command.CommandText);
        return ValueTask.FromResult(result);
    }
}
