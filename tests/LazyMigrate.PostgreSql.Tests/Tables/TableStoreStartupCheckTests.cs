using LazyMigrate.InMemory;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LazyMigrate.PostgreSql.Tests.Tables;

/// <summary>
/// The table store's start-up check: the host does not start over a table that cannot serve the mapping, and its one
/// error names the migration, the table and every missing or mismatched column; hostile names never reach SQL.
/// </summary>
[Collection("postgres")]
public sealed class TableStoreStartupCheckTests(PostgresServer server)
{
    [Fact]
    public async Task StartAsync_TableMissing_FailsNamingTheMigrationAndTheTable()
    {
        string missing = TestDatabase.UniqueTable("missing");
        using IHost host = Host(o => o.TableName = missing);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("'LegacyCustomer->Customer'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"the table \"public\".\"{missing}\" does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_MissingColumn_WrongTypes_AndAKeyWithoutUniqueIndex_FailsNamingEachOfThem()
    {
        string table = TestDatabase.UniqueTable("broken");
        await server.DataSource.ExecuteAsync($"CREATE TABLE \"{table}\" (id integer NOT NULL, full_name integer)");
        using IHost host = Host(o => (o.TableName, o.KeyType) = (table, PostgreSqlKeyType.Integer));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("'LegacyCustomer->Customer'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"\"public\".\"{table}\"", error.Message, StringComparison.Ordinal);
        Assert.Contains(
            "the key column \"id\" is neither the primary key nor has a unique index",
            error.Message,
            StringComparison.Ordinal
        );
        Assert.Contains(
            "the column \"full_name\" (LegacyCustomer.FullName) is int4, "
                + "which a property of type String cannot read from",
            error.Message,
            StringComparison.Ordinal
        );
        Assert.Contains(
            "the column \"version\" (LegacyCustomer.Version) is missing",
            error.Message,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public async Task StartAsync_KeyOfAnotherType_FailsNamingTheKeyAndBothTypes()
    {
        string table = await LegacyTables.CreateCustomersAsync(server.DataSource, PostgreSqlKeyType.Text);
        using IHost host = Host(o => (o.TableName, o.KeyType) = (table, PostgreSqlKeyType.BigInt));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains(
            "the key column \"id\" is text, not int8 (KeyType BigInt)",
            error.Message,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public async Task StartAsync_ACharKey_FailsNamingTheKeyAndItsType()
    {
        // A text key is sent as text: over char(n) the column is cast (no index) and keys come back padded.
        string table = TestDatabase.UniqueTable("padded");
        await server.DataSource.ExecuteAsync(
            $"CREATE TABLE \"{table}\" (id char(20) PRIMARY KEY, full_name text NOT NULL, version integer NOT NULL)"
        );
        using IHost host = Host(o => (o.TableName, o.KeyType) = (table, PostgreSqlKeyType.Text));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains(
            "the key column \"id\" is bpchar, not text or varchar (KeyType Text)",
            error.Message,
            StringComparison.Ordinal
        );
    }

    [Fact]
    public async Task StartAsync_ColumnsNoWriteCanSet_AndAnUnmappedRequiredColumn_FailNamingEachOfThem()
    {
        string table = TestDatabase.UniqueTable("unwritable");
        await server.DataSource.ExecuteAsync(
            $"CREATE TABLE \"{table}\" (id integer PRIMARY KEY, full_name text GENERATED ALWAYS AS ('x') STORED, "
                + "version integer GENERATED ALWAYS AS IDENTITY, region text NOT NULL, note text NOT NULL DEFAULT '')"
        );
        using IHost host = Host(o => (o.TableName, o.KeyType) = (table, PostgreSqlKeyType.Integer));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains(
            "the column \"full_name\" (LegacyCustomer.FullName) is generated, which no write can set",
            error.Message,
            StringComparison.Ordinal
        );
        Assert.Contains(
            "the column \"version\" (LegacyCustomer.Version) is GENERATED ALWAYS AS IDENTITY",
            error.Message,
            StringComparison.Ordinal
        );
        Assert.Contains(
            "the column \"region\" is NOT NULL without a default and the mapping does not write it",
            error.Message,
            StringComparison.Ordinal
        );
        Assert.DoesNotContain("\"note\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("VIEW", "a view")]
    [InlineData("MATERIALIZED VIEW", "a materialized view")]
    public async Task StartAsync_OverAView_FailsSayingItIsNotATable(string kind, string named)
    {
        string table = await LegacyTables.CreateCustomersAsync(server.DataSource, PostgreSqlKeyType.Integer);
        string view = TestDatabase.UniqueTable("view");
        await server.DataSource.ExecuteAsync($"CREATE {kind} \"{view}\" AS SELECT * FROM \"{table}\"");
        using IHost host = Host(o => (o.TableName, o.KeyType) = (view, PostgreSqlKeyType.Integer));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains($"\"public\".\"{view}\" is {named}, not a table", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_UniqueIndexOnTheKey_AndEveryColumnThere_Starts()
    {
        string table = TestDatabase.UniqueTable("unique");
        await server.DataSource.ExecuteAsync(
            $"CREATE TABLE \"{table}\" (id bigint NOT NULL, full_name varchar(200), version integer);"
                + $"CREATE UNIQUE INDEX ON \"{table}\" (id)"
        );
        using IHost host = Host(o => (o.TableName, o.KeyType) = (table, PostgreSqlKeyType.BigInt));

        await host.StartAsync();

        await host.StopAsync();
    }

    [Fact]
    public async Task StartAsync_HostileNames_FailValidationBeforeAnySql()
    {
        using IHost table = Host(o => o.TableName = "x\"; DROP TABLE y; --");
        using IHost column = Host(o => o.MapColumn(x => x.FullName, "name\" text); --").TableName = "customers");
        using IHost key = Host(o => (o.TableName, o.KeyColumn) = ("customers", "id\" OR 1=1"));

        var tableError = await Assert.ThrowsAsync<OptionsValidationException>(() => table.StartAsync());
        var columnError = await Assert.ThrowsAsync<OptionsValidationException>(() => column.StartAsync());
        var keyError = await Assert.ThrowsAsync<OptionsValidationException>(() => key.StartAsync());

        Assert.Contains("TableName 'x\"; DROP TABLE y; --' is invalid", tableError.Message, StringComparison.Ordinal);
        Assert.Contains(
            "column 'name\" text); --' of LegacyCustomer.FullName",
            columnError.Message,
            StringComparison.Ordinal
        );
        Assert.Contains("KeyColumn 'id\" OR 1=1' is invalid", keyError.Message, StringComparison.Ordinal);
        Assert.Contains("'LegacyCustomer->Customer:OldStore'", keyError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_NoDataSourceInTheContainer_FailsValidationSayingSo()
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(
            new HostApplicationBuilderSettings()
        );
        builder
            .Services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlTableOldStore(o => o.TableName = "customers")
            .UseInMemoryNewStore()
            .UseInMemoryLock();
        using IHost host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("needs an NpgsqlDataSource in the container", error.Message, StringComparison.Ordinal);
    }

    private IHost Host(Action<PostgreSqlTableStoreOptions<LegacyCustomer>> configure)
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(
            new HostApplicationBuilderSettings()
        );
        builder
            .Services.AddLazyMigration<LegacyCustomer, Customer>()
            .UseMapper(new CustomerMapper())
            .UsePostgreSqlTableOldStore(configure, server.DataSource)
            .UseInMemoryNewStore()
            .UseInMemoryLock();
        return builder.Build();
    }
}
