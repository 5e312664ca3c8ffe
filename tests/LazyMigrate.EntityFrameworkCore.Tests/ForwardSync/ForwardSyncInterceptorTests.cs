using System.Collections.Concurrent;
using LazyMigrate.EntityFrameworkCore.Tests.Legacy;
using LazyMigrate.InMemory;
using LazyMigrate.Outbox;
using LazyMigrate.TestKit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace LazyMigrate.EntityFrameworkCore.Tests.ForwardSync;

/// <summary>
/// Forward sync for legacy code that writes through its own EF Core context: with
/// <c>AddLazyMigrateForwardSync</c> on the legacy context's options, every <c>SaveChanges</c> (sync or async) records
/// the rows it wrote, and the dispatcher brings the new store up to them; LazyMigrate's own write-backs, made through a
/// context of the same type and options, are never recorded. On a real SQLite file.
/// </summary>
public sealed class ForwardSyncInterceptorTests : IAsyncLifetime
{
    private readonly SqliteFiles _database = new(writeAheadLog: false);
    private readonly RecordCountingOutbox _outbox = new(new InMemoryOutbox());
    private ContextFactory<LegacyDb> _legacy = null!;

    public async Task InitializeAsync() => _legacy = await LegacyTable.CreateAsync(_database);

    public Task DisposeAsync() => _database.DisposeAsync().AsTask();

    [Fact]
    public async Task TheLegacyApplicationsSaves_UpdateAndDeleteOfMigratedRows_ReachTheNewStore()
    {
        await LegacyTable.SeedAsync(_legacy, 1, "Ada Lovelace", DateTime.UtcNow, "seeded");
        await using ServiceProvider services = Build(_legacy);
        var repository = services.GetRequiredService<IMigratingRepository<LegacyContact, Contact>>();
        var dispatcher = services.GetRequiredService<IMigrationDispatcher<LegacyContact, Contact>>();
        Assert.Equal("Ada Lovelace", (await repository.GetAsync("1"))?.FullName);
        await dispatcher.DrainAsync();

        await using (LegacyDb app = LegacyApplication(services))
        {
            LegacyContact row = await app.Customers.SingleAsync(c => c.Id == 1);
            row.FullName = "Ada King";
            Assert.Equal(1, app.SaveChanges());
        }

        Assert.Equal(1, _outbox.ForwardSyncsRecorded);
        await dispatcher.DrainAsync();
        Assert.Equal("Ada King", (await repository.GetAsync("1"))?.FullName);

        await using (LegacyDb app = LegacyApplication(services))
        {
            app.Customers.Remove(await app.Customers.SingleAsync(c => c.Id == 1));
            Assert.Equal(1, await app.SaveChangesAsync());
        }

        await dispatcher.DrainAsync();
        Assert.Null(await repository.GetAsync("1"));
        Assert.Equal(2, _outbox.ForwardSyncsRecorded);
    }

    [Fact]
    public async Task ARowTheDatabaseKeys_IsRecordedOnceTheSaveGaveItItsKey_AndMigratesWhenRead()
    {
        await using ServiceProvider services = Build(_legacy);
        int id;
        var options = new DbContextOptionsBuilder<AutoKeyLegacyDb>().UseSqlite(_legacy.ConnectionString);
        options.AddLazyMigrateForwardSync<LegacyContact, Contact>(services);
        await using (var app = new AutoKeyLegacyDb(options.Options))
        {
            var row = new LegacyContact { FullName = "Grace Hopper", Version = 1 };
            app.Customers.Add(row);
            await app.SaveChangesAsync();
            id = row.Id;
        }

        string recorded = Assert.Single(_outbox.ForwardSyncIds);
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), recorded);
        await services.GetRequiredService<IMigrationDispatcher<LegacyContact, Contact>>().DrainAsync();
        var repository = services.GetRequiredService<IMigratingRepository<LegacyContact, Contact>>();
        Assert.Equal("Grace Hopper", (await repository.GetAsync(recorded))?.FullName);
    }

    [Fact]
    public async Task WriteBacks_ThroughAContextWithTheInterceptor_AreNeverRecorded()
    {
        await LegacyTable.SeedAsync(_legacy, 1, "Ada Lovelace", DateTime.UtcNow, "seeded");
        ServiceProvider? built = null;
        var options = new DbContextOptionsBuilder<LegacyDb>().UseSqlite(_legacy.ConnectionString);
        options.AddLazyMigrateForwardSync<LegacyContact, Contact>(new LateServices(() => built!));
        var intercepted = new ContextFactory<LegacyDb>(options.Options, o => new LegacyDb(o), _legacy.ConnectionString);
        await using ServiceProvider services = built = Build(intercepted);
        var repository = services.GetRequiredService<IMigratingRepository<LegacyContact, Contact>>();
        Assert.NotNull(await repository.GetAsync("1"));

        await repository.SaveAsync("1", new Contact("Ada King", "555-0199", 2));
        await services.GetRequiredService<IMigrationDispatcher<LegacyContact, Contact>>().DrainAsync();

        await using LegacyDb check = _legacy.CreateDbContext();
        Assert.Equal("Ada King", (await check.Customers.SingleAsync(c => c.Id == 1)).FullName);
        Assert.Equal(0, _outbox.ForwardSyncsRecorded);
    }

    [Fact]
    public async Task WithTheOutboxInTheLegacyDatabase_TheItemIsWrittenBySaveChanges_AndNotAtAllIfTheSaveFails()
    {
        string connectionString = await _database.NewConnectionStringAsync();
        var plain = new DbContextOptionsBuilder<LegacyWithOutboxDb>().UseSqlite(connectionString).Options;
        await using (var create = new LegacyWithOutboxDb(plain))
        {
            await create.Database.EnsureCreatedAsync();
            create.Customers.Add(
                new LegacyContact
                {
                    Id = 1,
                    FullName = "Ada Lovelace",
                    Version = 1,
                }
            );
            await create.SaveChangesAsync();
        }

        var services = new ServiceCollection();
        services.AddSingleton<IDbContextFactory<LegacyWithOutboxDb>>(
            new ContextFactory<LegacyWithOutboxDb>(plain, o => new LegacyWithOutboxDb(o), connectionString)
        );
        var mapper = new ContactMapper();
        services
            .AddLazyMigration<LegacyContact, Contact>(o => o.ForwardSync = true)
            .UseMapper(mapper)
            .UseOldStore(sp => new EntityFrameworkCoreOldStore<LegacyWithOutboxDb, LegacyContact, int>(
                sp.GetRequiredService<IDbContextFactory<LegacyWithOutboxDb>>(),
                db => db.Customers,
                c => c.Id
            ))
            .UseInMemoryNewStore()
            .UseEntityFrameworkCoreOutbox<LegacyContact, Contact, LegacyWithOutboxDb>()
            .UseInMemoryLock()
            .ConfigureOutbox(o => o.DispatchOnWrite = false);
        await using ServiceProvider provider = services.BuildServiceProvider();
        var repository = provider.GetRequiredService<IMigratingRepository<LegacyContact, Contact>>();
        Assert.NotNull(await repository.GetAsync("1"));
        await provider.GetRequiredService<IMigrationDispatcher<LegacyContact, Contact>>().DrainAsync();
        var appCommands = new CommandLog();
        var appOptions = new DbContextOptionsBuilder<LegacyWithOutboxDb>()
            .UseSqlite(connectionString)
            .AddInterceptors(appCommands);
        appOptions.AddLazyMigrateForwardSync<LegacyContact, Contact>(provider);

        // A save that fails (the second row has no name): neither the update nor its item is written.
        await using (var app = new LegacyWithOutboxDb(appOptions.Options))
        {
            (await app.Customers.SingleAsync(c => c.Id == 1)).FullName = "Ada King";
            app.Customers.Add(
                new LegacyContact
                {
                    Id = 2,
                    FullName = null!,
                    Version = 1,
                }
            );
            await Assert.ThrowsAsync<DbUpdateException>(() => app.SaveChangesAsync());
        }

        Assert.Empty(await ForwardSyncItemsAsync(plain));

        await using (var app = new LegacyWithOutboxDb(appOptions.Options))
        {
            (await app.Customers.SingleAsync(c => c.Id == 1)).FullName = "Ada King";
            await app.SaveChangesAsync();
        }

        Assert.Equal(["1"], await ForwardSyncItemsAsync(plain));

        // Written by the legacy context itself, in its save: not recorded afterwards through another context.
        Assert.Contains(
            appCommands.Commands,
            c =>
                c.Contains(
                    $"INSERT INTO \"{LazyMigrateModelBuilderExtensions.DefaultOutboxTableName}\"",
                    StringComparison.Ordinal
                )
        );
        await provider.GetRequiredService<IMigrationDispatcher<LegacyContact, Contact>>().DrainAsync();
        Assert.Equal("Ada King", (await repository.GetAsync("1"))?.FullName);
    }

    /// <summary>The ids of the forward sync items in the outbox table of the legacy database.</summary>
    private static async Task<string[]> ForwardSyncItemsAsync(DbContextOptions<LegacyWithOutboxDb> options)
    {
        await using var db = new LegacyWithOutboxDb(options);
        return await db.Set<LazyMigrateOutboxItem>()
            .Where(i => i.Kind == OutboxItemKind.ForwardSync)
            .Select(i => i.EntityId)
            .ToArrayAsync();
    }

    /// <summary>The legacy application's own context, with the interceptor added as a team would add it.</summary>
    private LegacyDb LegacyApplication(IServiceProvider services)
    {
        var options = new DbContextOptionsBuilder<LegacyDb>().UseSqlite(_legacy.ConnectionString);
        options.AddLazyMigrateForwardSync<LegacyContact, Contact>(services);
        return new LegacyDb(options.Options);
    }

    private ServiceProvider Build(ContextFactory<LegacyDb> oldStoreContexts)
    {
        var mapper = new ContactMapper();
        var services = new ServiceCollection();
        services
            .AddLazyMigration<LegacyContact, Contact>(o =>
            {
                o.ForwardSync = true;
                o.WriteBackMode = WriteBackMode.Async;
            })
            .UseMapper(mapper)
            .UseReverseMapper(mapper)
            .UseOldStore(
                new EntityFrameworkCoreOldStore<LegacyDb, LegacyContact, int>(
                    oldStoreContexts,
                    db => db.Customers,
                    c => c.Id
                )
            )
            .UseInMemoryNewStore()
            .UseOutbox(_outbox)
            .UseInMemoryLock()
            .ConfigureOutbox(o => o.DispatchOnWrite = false);
        return services.BuildServiceProvider();
    }

    /// <summary>The new model of a legacy contact.</summary>
    public sealed record Contact(string FullName, string? Phone, int Version);

    private sealed class ContactMapper
        : IMigrationMapper<LegacyContact, Contact>,
            IReverseMigrationMapper<LegacyContact, Contact>
    {
        public Contact Map(LegacyContact entity) => new(entity.FullName, entity.Phone, entity.Version);

        public LegacyContact MapBack(Contact entity) =>
            new()
            {
                FullName = entity.FullName,
                Phone = entity.Phone,
                Version = entity.Version,
            };
    }

    /// <summary>An outbox that counts the forward sync items recorded through it.</summary>
    private sealed class RecordCountingOutbox(IMigrationOutbox inner) : DelegatingOutbox(inner)
    {
        private readonly ConcurrentQueue<string> _forwardSyncIds = new();

        public IReadOnlyCollection<string> ForwardSyncIds => _forwardSyncIds;

        public int ForwardSyncsRecorded => _forwardSyncIds.Count;

        public override ValueTask<long> RecordAsync(OutboxIntent intent, CancellationToken cancellationToken = default)
        {
            if (intent.Kind == OutboxItemKind.ForwardSync)
            {
                _forwardSyncIds.Enqueue(intent.EntityId);
            }

            return base.RecordAsync(intent, cancellationToken);
        }
    }

    /// <summary>A service provider built after the options that need it: the interceptor resolves it at its first
    /// save.</summary>
    private sealed class LateServices(Func<IServiceProvider> services) : IServiceProvider
    {
        public object? GetService(Type serviceType) => services().GetService(serviceType);
    }

    /// <summary>The legacy context of an application that lets the table key its inserts.</summary>
    private sealed class AutoKeyLegacyDb(DbContextOptions<AutoKeyLegacyDb> options) : DbContext(options)
    {
        public DbSet<LegacyContact> Customers => Set<LegacyContact>();

        protected override void OnModelCreating(ModelBuilder modelBuilder) =>
            modelBuilder.Entity<LegacyContact>(e =>
            {
                e.ToTable("legacy_customers");
                e.HasKey(c => c.Id);
                e.Property(c => c.Id).HasColumnName("id").ValueGeneratedOnAdd();
                e.Property(c => c.FullName).HasColumnName("full_name");
                e.Property(c => c.Phone).HasColumnName("phone");
                e.Property(c => c.Version).HasColumnName("version");
                e.Property(c => c.UpdatedAt).HasColumnName("updated_at");
            });
    }

    /// <summary>A legacy context whose database also holds LazyMigrate's outbox.</summary>
    private sealed class LegacyWithOutboxDb(DbContextOptions<LegacyWithOutboxDb> options) : DbContext(options)
    {
        public DbSet<LegacyContact> Customers => Set<LegacyContact>();

        protected override void OnModelCreating(ModelBuilder modelBuilder)
        {
            modelBuilder.Entity<LegacyContact>(e =>
            {
                e.ToTable("legacy_customers");
                e.HasKey(c => c.Id);
                e.Property(c => c.Id).ValueGeneratedNever();
            });
            modelBuilder.AddLazyMigrateOutbox();
        }
    }
}
