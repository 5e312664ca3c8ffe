using System.Text.Json;
using System.Text.Json.Serialization;
using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>The payload is jsonb written and read with the configured System.Text.Json options.</summary>
[Collection("postgres")]
public sealed class JsonOptionsTests(PostgresServer server)
{
    [Fact]
    public async Task DefaultOptions_WriteCamelCaseJsonb()
    {
        var options = TestDatabase.Options();
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, options);

        await store.UpsertAsync("a", Customer.Create("a", 7));

        Assert.Equal(
            "First7",
            await server.DataSource.ScalarAsync<string>(
                $"SELECT payload->>'firstName' FROM \"{options.TableName}\" WHERE id = 'a'"
            )
        );
    }

    [Fact]
    public async Task ConfiguredOptions_AreHonouredBothWays()
    {
        var json = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            NumberHandling = JsonNumberHandling.WriteAsString | JsonNumberHandling.AllowReadingFromString,
        };
        var options = TestDatabase.Options(configure: o => o.JsonSerializerOptions = json);
        var store = new PostgreSqlNewStore<Customer>(server.DataSource, options);

        await store.UpsertAsync("a", Customer.Create("a", 7));
        await server.DataSource.ExecuteAsync(
            $"INSERT INTO \"{options.TableName}\" (id, payload) VALUES "
                + "('written-by-hand', '{\"first_name\": \"Ada\", \"last_name\": \"L\", \"version\": \"3\"}')"
        );

        Assert.Equal(
            "First7",
            await server.DataSource.ScalarAsync<string>(
                $"SELECT payload->>'first_name' FROM \"{options.TableName}\" WHERE id = 'a'"
            )
        );
        Assert.Equal(
            "string",
            await server.DataSource.ScalarAsync<string>(
                $"SELECT jsonb_typeof(payload->'version') FROM \"{options.TableName}\" WHERE id = 'a'"
            )
        );
        Assert.Equal(7, (await store.FindAsync("a")).Value!.Version);
        Customer byHand = (await store.FindAsync("written-by-hand")).Value!;
        Assert.Equal(("Ada", 3), (byHand.FirstName, byHand.Version));
    }

    [Fact]
    public async Task OldAndNewStores_ShareTheLayout_SoATableCanChangeRole()
    {
        var options = TestDatabase.Options();
        var asNew = new PostgreSqlNewStore<Customer>(server.DataSource, options);
        var asOld = new PostgreSqlOldStore<Customer>(server.DataSource, options);

        await asNew.UpsertAsync("kept", Customer.Create("kept", 1));
        await asNew.UpsertAsync("deleted", Customer.Create("deleted", 2));
        await asNew.DeleteAsync("deleted");

        // A tombstone of the new store is an absent entity to the old store, in reads and scans alike.
        Assert.Equal(1, (await asOld.FindAsync("kept"))!.Version);
        Assert.Null(await asOld.FindAsync("deleted"));
        Assert.Equal(["kept"], (await asOld.FindManyAsync(["kept", "deleted"])).Keys);
        Assert.Equal(["kept"], await asOld.ScanAsync(null).Select(e => e.Key).ToListAsync());
    }
}
