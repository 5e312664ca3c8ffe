using Microsoft.EntityFrameworkCore;

namespace LazyMigrate.EntityFrameworkCore.Tests;

/// <summary>A context that does not fit a store: a generated key and no entries table.</summary>
public sealed class UnfitDb(DbContextOptions<UnfitDb> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    public DbSet<Note> Notes => Set<Note>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>().HasKey(o => o.Number);
        modelBuilder.Entity<Note>(e =>
        {
            e.HasKey(n => n.Id);
            e.Property(n => n.Id).ValueGeneratedNever();
        });
    }
}

/// <summary>
/// Keys a store keyed by the model cannot take: a composite shadow key, an int key asked for as a long.
/// </summary>
public sealed class OtherKeysDb(DbContextOptions<OtherKeysDb> options) : DbContext(options)
{
    public DbSet<ShadowKeys.Customer> Customers => Set<ShadowKeys.Customer>();

    public DbSet<Order> Orders => Set<Order>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<ShadowKeys.Customer>(e =>
        {
            e.Property<string>("Region");
            e.Property<string>("Number");
            e.HasKey("Region", "Number");
        });
        modelBuilder.Entity<Order>(e =>
        {
            e.HasKey(o => o.Number);
            e.Property(o => o.Number).ValueGeneratedNever();
        });
    }
}

/// <summary>A store checks the context's model when it is built, before any database is touched.</summary>
public sealed class StoreModelTests
{
    private static readonly ContextFactory<UnfitDb> Unfit = new(
        new DbContextOptionsBuilder<UnfitDb>().UseSqlite("Data Source=never-opened.db").Options,
        o => new UnfitDb(o)
    );

    private static readonly ContextFactory<OtherKeysDb> OtherKeys = new(
        new DbContextOptionsBuilder<OtherKeysDb>().UseSqlite("Data Source=never-opened.db").Options,
        o => new OtherKeysDb(o)
    );

    [Fact]
    public void NewStore_OverAContextWithoutEntriesAndAGeneratedKey_FailsNamingBothFixes()
    {
        var failure = Assert.Throws<InvalidOperationException>(() =>
            new EntityFrameworkCoreNewStore<UnfitDb, Order, int>(Unfit, db => db.Orders, o => o.Number)
        );

        Assert.Contains(".ValueGeneratedNever()", failure.Message, StringComparison.Ordinal);
        Assert.Contains("modelBuilder.AddLazyMigrateEntries()", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OldStore_NeedsNoEntries_ButANonGeneratedPrimaryKey()
    {
        _ = new EntityFrameworkCoreOldStore<UnfitDb, Note, long>(Unfit, db => db.Notes, n => n.Id);

        var failure = Assert.Throws<InvalidOperationException>(() =>
            new EntityFrameworkCoreOldStore<UnfitDb, Order, int>(Unfit, db => db.Orders, o => o.Number)
        );
        Assert.Contains("Order.Number must not be generated", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeySelector_ThatIsNotThePrimaryKeyOrNotAProperty_IsRejected()
    {
        var notTheKey = Assert.Throws<InvalidOperationException>(() =>
            new EntityFrameworkCoreOldStore<UnfitDb, Order, int>(Unfit, db => db.Orders, o => o.Version)
        );
        var notAProperty = Assert.Throws<ArgumentException>(() =>
            new EntityFrameworkCoreOldStore<UnfitDb, Order, int>(Unfit, db => db.Orders, o => o.Number + 1)
        );

        Assert.Contains("it names 'Version', the primary key is (Number)", notTheKey.Message, StringComparison.Ordinal);
        Assert.Contains("must read one property", notAProperty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StoreKeyedByTheModel_OverACompositeKey_FailsNamingItsProperties()
    {
        var failure = Assert.Throws<InvalidOperationException>(() =>
            new EntityFrameworkCoreNewStore<OtherKeysDb, ShadowKeys.Customer, string>(OtherKeys, db => db.Customers)
        );

        Assert.Contains(
            "needs a single-property primary key of Customer in OtherKeysDb; the primary key is (Region, Number)",
            failure.Message,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public void StoreKeyedByTheModelOrByEFProperty_WithAnotherKeyType_FailsNamingBothTypes()
    {
        var byModel = Assert.Throws<InvalidOperationException>(() =>
            new EntityFrameworkCoreOldStore<OtherKeysDb, Order, long>(OtherKeys, db => db.Orders)
        );
        var bySelector = Assert.Throws<InvalidOperationException>(() =>
            new EntityFrameworkCoreOldStore<OtherKeysDb, Order, long>(
                OtherKeys,
                db => db.Orders,
                o => EF.Property<long>(o, nameof(Order.Number))
            )
        );

        const string expected = "The key Order.Number is a Int32 in OtherKeysDb, but the store's key type is Int64.";
        Assert.Contains(expected, byModel.Message, StringComparison.Ordinal);
        Assert.Contains(expected, bySelector.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_OutOfRange_AreRejected()
    {
        var failure = Assert.Throws<ArgumentException>(() =>
            new EntityFrameworkCoreOldStore<UnfitDb, Note, long>(
                Unfit,
                db => db.Notes,
                n => n.Id,
                new()
                {
                    ScanPageSize = 0,
                    MaxWriteAttempts = 0,
                    EntityTypeName = " ",
                }
            )
        );

        Assert.Contains("ScanPageSize", failure.Message, StringComparison.Ordinal);
        Assert.Contains("MaxWriteAttempts", failure.Message, StringComparison.Ordinal);
        Assert.Contains("EntityTypeName", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyTypeWithoutADefaultConversion_NeedsParseIdAndFormatKey()
    {
        var failure = Assert.Throws<ArgumentException>(() =>
            new EntityFrameworkCoreOldStore<UnfitDb, Note, Uri>(Unfit, db => db.Notes, n => new Uri("x:" + n.Id))
        );

        Assert.Contains("set both ParseId and FormatKey", failure.Message, StringComparison.Ordinal);
    }
}
