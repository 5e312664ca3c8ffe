using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Tables;

public enum OrderState
{
    Open = 1,
    Paid = 2,
}

/// <summary>A legacy record with a typed key: built through its primary constructor.</summary>
public sealed record LegacyOrder(
    int Id,
    string Reference,
    decimal? Total,
    OrderState State,
    OrderState? PreviousState,
    DateTime PlacedAt,
    Guid? Token,
    bool Paid,
    string? Note,
    byte[]? Scan
);

/// <summary>A legacy class whose key and name columns are not the convention's, with a computed member.</summary>
public sealed class LegacyPerson
{
    public Guid Key { get; init; }

    public string Name { get; set; } = "";

    public short Age { get; set; }

    public string Display => $"{Name} ({Age})";
}

/// <summary>A model the convention cannot map: one name over two columns, a state stored as text.</summary>
public sealed class LegacyContact
{
    public string Code { get; set; } = "";

    public string FullName { get; set; } = "";

    public OrderState State { get; set; }
}

/// <summary>
/// The column mapping: the convention (snake_case, records, nullable columns, enums as integers, a typed key member),
/// overrides (<c>MapColumn</c>, <c>Ignore</c>), and a row mapping for what the convention cannot say.
/// </summary>
[Collection("postgres")]
public sealed class TableMappingTests(PostgresServer server)
{
    private static readonly DateTime Placed = new(2021, 6, 7, 8, 9, 10, DateTimeKind.Utc);

    [Fact]
    public async Task Convention_ARecordWithTypedAndNullableColumns_RoundTrips()
    {
        string table = TestDatabase.UniqueTable("orders");
        await server.DataSource.ExecuteAsync(
            $"CREATE TABLE \"{table}\" (id integer PRIMARY KEY, reference varchar(20) NOT NULL, total numeric(10, 2), "
                + "state integer NOT NULL, previous_state integer, placed_at timestamptz NOT NULL, token uuid, "
                + "paid boolean NOT NULL, note text, scan bytea, legacy_only text DEFAULT 'kept')"
        );
        var store = new PostgreSqlTableOldStore<LegacyOrder>(server.DataSource, new() { TableName = table });
        var full = new LegacyOrder(
            7,
            "R-7",
            12.5m,
            OrderState.Paid,
            OrderState.Open,
            Placed,
            Guid.NewGuid(),
            true,
            "n",
            [1, 2]
        );
        var empty = new LegacyOrder(8, "R-8", null, OrderState.Open, null, Placed, null, false, null, null);

        await store.UpsertAsync("7", full);
        await store.UpsertAsync("8", empty);
        LegacyOrder? readFull = await store.FindAsync("7");
        LegacyOrder? readEmpty = (await store.FindManyAsync(["8"]))["8"];

        List<KeyValuePair<string, LegacyOrder>> scanned = [];
        await foreach (var row in store.ScanAsync(null))
        {
            scanned.Add(row);
        }

        Assert.Equal(full with { Scan = null }, readFull! with { Scan = null });
        Assert.Equal([1, 2], readFull.Scan);
        Assert.Equal(empty, readEmpty);
        Assert.Equal(["7", "8"], scanned.Select(row => row.Key));
        Assert.Equal(full with { Scan = null }, scanned[0].Value with { Scan = null });
        Assert.Equal(empty, scanned[1].Value);
        Assert.Equal(2, await server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM \"{table}\" WHERE state > 0"));
        Assert.Equal(
            "kept",
            await server.DataSource.ScalarAsync<string>($"SELECT legacy_only FROM \"{table}\" WHERE id = 7")
        );
    }

    [Fact]
    public async Task Overrides_MapColumnAndIgnore_ReadAndWriteTheNamedColumnsOnly()
    {
        string table = TestDatabase.UniqueTable("people");
        await server.DataSource.ExecuteAsync(
            $"CREATE TABLE \"{table}\" (person_id uuid PRIMARY KEY, full_name text NOT NULL, age smallint NOT NULL)"
        );
        var options = new PostgreSqlTableStoreOptions<LegacyPerson> { TableName = table, KeyColumn = "person_id" }
            .MapColumn(x => x.Key, "person_id")
            .MapColumn(x => x.Name, "full_name")
            .Ignore(x => x.Display);
        var store = new PostgreSqlTableOldStore<LegacyPerson>(server.DataSource, options);
        var id = Guid.NewGuid();

        await store.UpsertAsync(
            id.ToString(),
            new LegacyPerson
            {
                Key = id,
                Name = "Ada",
                Age = 36,
            }
        );
        LegacyPerson read = (await store.FindAsync(id.ToString()))!;
        var (scannedId, scanned) = Assert.Single(await store.ScanAsync(null).ToListAsync());

        Assert.Equal((id, "Ada", (short)36, "Ada (36)"), (read.Key, read.Name, read.Age, read.Display));
        Assert.Equal((id.ToString(), id, "Ada", (short)36), (scannedId, scanned.Key, scanned.Name, scanned.Age));
    }

    [Fact]
    public async Task RowMapping_SplitsAMemberOverTwoColumns_AndWritesOnlyItsColumns()
    {
        var (store, table) = await ContactStoreAsync();

        await store.UpsertAsync("c-1", new LegacyContact { FullName = "Grace Hopper", State = OrderState.Paid });
        await server.DataSource.ExecuteAsync($"UPDATE \"{table}\" SET audit = 'checked'");
        await store.UpsertAsync("c-1", new LegacyContact { FullName = "Grace B. Hopper", State = OrderState.Open });
        LegacyContact read = (await store.FindAsync("c-1"))!;

        Assert.Equal(("c-1", "Grace B. Hopper", OrderState.Open), (read.Code, read.FullName, read.State));
        Assert.Equal("checked", await server.DataSource.ScalarAsync<string>($"SELECT audit FROM \"{table}\""));
        Assert.Equal("Open", await server.DataSource.ScalarAsync<string>($"SELECT state FROM \"{table}\""));
    }

    [Fact]
    public async Task RowMapping_UpsertMany_WritesEveryRowThroughTheWriter_AndOnlyItsColumns()
    {
        var (store, table) = await ContactStoreAsync();
        await store.UpsertAsync("c-1", new LegacyContact { FullName = "Grace Hopper", State = OrderState.Paid });
        await server.DataSource.ExecuteAsync($"UPDATE \"{table}\" SET audit = 'checked'");

        await store.UpsertManyAsync([
            new("c-1", new LegacyContact { FullName = "Grace B. Hopper", State = OrderState.Open }),
            new("c-2", new LegacyContact { FullName = "Ada Lovelace", State = OrderState.Paid }),
        ]);
        var read = await store.FindManyAsync(["c-1", "c-2"]);

        Assert.Equal("Grace B. Hopper", read["c-1"].FullName);
        Assert.Equal(("Ada Lovelace", OrderState.Paid), (read["c-2"].FullName, read["c-2"].State));
        Assert.Equal(
            "checked legacy",
            await server.DataSource.ScalarAsync<string>($"SELECT string_agg(audit, ' ' ORDER BY code) FROM \"{table}\"")
        );
    }

    [Fact]
    public void Options_WhatTheConventionCannotMap_FailNamingEveryMember()
    {
        var computed = new PostgreSqlTableStoreOptions<LegacyPerson> { TableName = "people", KeyColumn = "key" };
        var noKeyType = new PostgreSqlTableStoreOptions<LegacyContact> { TableName = "contacts" };
        var hostile = new PostgreSqlTableStoreOptions<LegacyCustomer> { TableName = "customers" }.MapColumn(
            x => x.FullName,
            "name\"; DROP TABLE customers; --"
        );

        var computedError = Assert.Throws<ArgumentException>(() => Store(computed));
        var noKeyTypeError = Assert.Throws<ArgumentException>(() => Store(noKeyType));
        var hostileError = Assert.Throws<ArgumentException>(() => Store(hostile));

        Assert.Contains("LegacyPerson.Display has no public setter", computedError.Message, StringComparison.Ordinal);
        Assert.Contains("KeyType is required", noKeyTypeError.Message, StringComparison.Ordinal);
        Assert.Contains("name\"; DROP TABLE customers; --", hostileError.Message, StringComparison.Ordinal);
        Assert.Contains("LegacyCustomer.FullName", hostileError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_AnUndefinedKeyType_FailsNamingTheOption()
    {
        var options = new PostgreSqlTableStoreOptions<LegacyCustomer>
        {
            TableName = "customers",
            KeyType = (PostgreSqlKeyType)42,
        };

        var error = Assert.Throws<ArgumentException>(() => Store(options));

        Assert.Contains("KeyType 42 is not a PostgreSqlKeyType", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RowMapping_AWriterThatAddsTooFewValues_FailsBeforeWriting()
    {
        string table = await LegacyTables.CreateCustomersAsync(server.DataSource, PostgreSqlKeyType.Text);
        var options = new PostgreSqlTableStoreOptions<LegacyCustomer> { TableName = table }.UseRowMapping(
            ["full_name", "version"],
            (row, id) => LegacyCustomer.Create(id, row.GetInt32(1)),
            (customer, values) => values.Add(new NpgsqlParameter<string> { TypedValue = customer.FullName })
        );
        var store = new PostgreSqlTableOldStore<LegacyCustomer>(server.DataSource, options);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            store.UpsertAsync("a", LegacyCustomer.Create("a", 1)).AsTask()
        );

        Assert.Contains("wrote 1 values for 2 columns", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await server.DataSource.ScalarAsync<long>($"SELECT count(*) FROM \"{table}\""));
    }

    private PostgreSqlTableOldStore<T> Store<T>(PostgreSqlTableStoreOptions<T> options)
        where T : class => new(server.DataSource, options);

    /// <summary>A contacts table whose row mapping splits the full name over two columns; audit is legacy.</summary>
    private async Task<(PostgreSqlTableOldStore<LegacyContact> Store, string Table)> ContactStoreAsync()
    {
        string table = TestDatabase.UniqueTable("contacts");
        await server.DataSource.ExecuteAsync(
            $"CREATE TABLE \"{table}\" (code text COLLATE \"C\" PRIMARY KEY, first_name text NOT NULL, "
                + "last_name text NOT NULL, state text NOT NULL, audit text DEFAULT 'legacy')"
        );
        var options = new PostgreSqlTableStoreOptions<LegacyContact>
        {
            TableName = table,
            KeyColumn = "code",
        }.UseRowMapping(
            ["first_name", "last_name", "state"],
            (row, id) =>
                new LegacyContact
                {
                    Code = id,
                    FullName = $"{row.GetString(0)} {row.GetString(1)}",
                    State = Enum.Parse<OrderState>(row.GetString(2)),
                },
            (contact, values) =>
            {
                string[] names = contact.FullName.Split(' ', 2);
                values.Add(new NpgsqlParameter<string> { TypedValue = names[0] });
                values.Add(new NpgsqlParameter<string> { TypedValue = names[1] });
                values.Add(new NpgsqlParameter<string> { TypedValue = contact.State.ToString() });
            }
        );
        return (new PostgreSqlTableOldStore<LegacyContact>(server.DataSource, options), table);
    }
}
