using LazyMigrate.InMemory;
using LazyMigrate.TestKit.Documentation;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Tables;

/// <summary>
/// The examples of docs/postgresql.md's section on an existing legacy table, verbatim; DocumentationCoverageTests
/// checks that they stay so. Each runs in a database of its own, over a table made as a legacy application made it.
/// </summary>
[Collection("postgres")]
public sealed class TableStoreExamplesTests(PostgresServer server) : ContainerExample
{
    private const string LegacyTable =
        "CREATE TABLE legacy_customers (id serial PRIMARY KEY, full_name text NOT NULL, phone text, "
        + "updated_at timestamptz DEFAULT now())";

    [Fact]
    public async Task Usage_ReadsTheLegacyTable_AndWritesBackOnlyItsMappedColumns()
    {
        NpgsqlDataSource dataSource = await DatabaseAsync(LegacyTable);
        await dataSource.ExecuteAsync(
            "INSERT INTO legacy_customers (full_name, phone, updated_at) "
                + "VALUES ('Ada Lovelace', '(555) 010-0001', '2020-01-01Z')"
        );

        services
            .AddLazyMigration<LegacyCustomer, Customer>(o => o.WriteBackMode = WriteBackMode.Sync)
            .UseMapper(new CustomerMapper())
            .UseReverseMapper(new CustomerMapper())
            .UsePostgreSqlTableOldStore(o =>
            {
                o.TableName = "legacy_customers"; // the legacy application's table, as it is
                o.KeyType = PostgreSqlKeyType.Integer; // LegacyCustomer has no Id member to infer it from
            })
            .UsePostgreSqlNewStore(o => o.CreateSchema = true);

        var customers = provider.GetRequiredService<IMigratingRepository<LegacyCustomer, Customer>>();
        Assert.Equal(new Customer("Ada", "Lovelace", "(555) 010-0001"), await customers.GetAsync("1"));
        await customers.SaveAsync("1", new Customer("Ada", "King", "(555) 010-0001"));
        Assert.Equal("Ada King", await dataSource.ScalarAsync<string>("SELECT full_name FROM legacy_customers"));
        Assert.Equal(
            new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc),
            await dataSource.ScalarAsync<DateTime>("SELECT updated_at FROM legacy_customers")
        );

        var legacy =
            (PostgreSqlTableOldStore<LegacyCustomer>)
                provider.GetRequiredKeyedService<IOldStore<LegacyCustomer>>("LegacyCustomer->Customer");
        string id = await legacy.NextIdAsync(); // the key the legacy application's next insert would have taken
        await customers.SaveAsync(id, new Customer("Grace", "Hopper", "(555) 010-0002"));

        Assert.Equal("2", id);
        Assert.Equal(
            3,
            await dataSource.ScalarAsync<int>("INSERT INTO legacy_customers (full_name) VALUES ('x') RETURNING id")
        );
    }

    [Fact]
    public async Task Overrides_MapOtherColumnNames()
    {
        NpgsqlDataSource dataSource = await DatabaseAsync(
            "CREATE TABLE crm_contacts (contact_id uuid PRIMARY KEY, display_name text NOT NULL, "
                + "phone_number text NOT NULL, score integer)"
        );
        services
            .AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlTableOldStore(o =>
            {
                o.TableName = "crm_contacts";
                o.KeyColumn = "contact_id";
                o.KeyType = PostgreSqlKeyType.Uuid;
                o.MapColumn(x => x.FullName, "display_name").MapColumn(x => x.Phone, "phone_number");
            })
            .UseInMemoryNewStore()
            .UseInMemoryLock();

        var store = provider.GetRequiredKeyedService<IOldStore<LegacyCustomer>>("LegacyCustomer->Customer");
        const string Id = "0f8fad5b-d9cb-469f-a165-70867728950e";

        await store.UpsertAsync(Id, new LegacyCustomer("Ada Lovelace", "(555) 010-0001"));

        Assert.Equal(new LegacyCustomer("Ada Lovelace", "(555) 010-0001"), await store.FindAsync(Id));
    }

    [Fact]
    public async Task RowMapping_ReadsAndWritesWhatTheConventionCannotSay()
    {
        NpgsqlDataSource dataSource = await DatabaseAsync(
            "CREATE TABLE people (id bigserial PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL, "
                + "phone text NOT NULL)"
        );
        var options = new PostgreSqlTableStoreOptions<LegacyCustomer>
        {
            TableName = "people",
            KeyType = PostgreSqlKeyType.BigInt,
        };

        options.UseRowMapping(
            ["first_name", "last_name", "phone"],
            (row, id) => new LegacyCustomer($"{row.GetString(0)} {row.GetString(1)}", row.GetString(2)),
            (customer, values) =>
            {
                string[] name = customer.FullName.Split(' ', 2);
                values.Add(new NpgsqlParameter<string> { TypedValue = name[0] });
                values.Add(new NpgsqlParameter<string> { TypedValue = name[1] });
                values.Add(new NpgsqlParameter<string> { TypedValue = customer.Phone });
            }
        );

        var store = new PostgreSqlTableOldStore<LegacyCustomer>(dataSource, options);
        await store.UpsertAsync("7", new LegacyCustomer("Grace Hopper", "(555) 010-0002"));
        Assert.Equal(new LegacyCustomer("Grace Hopper", "(555) 010-0002"), await store.FindAsync("7"));
        Assert.Equal("Hopper", await dataSource.ScalarAsync<string>("SELECT last_name FROM people"));
    }

    private async Task<NpgsqlDataSource> DatabaseAsync(string createTable)
    {
        NpgsqlDataSource dataSource = NpgsqlDataSource.Create(await server.CreateDatabaseAsync());
        services.AddSingleton(dataSource); // disposed with the container
        await dataSource.ExecuteAsync(createTable);
        return dataSource;
    }
}
