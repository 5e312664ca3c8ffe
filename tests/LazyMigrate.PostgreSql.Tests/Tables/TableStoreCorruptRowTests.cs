using LazyMigrate.TestKit;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.PostgreSql.Tests.Tables;

/// <summary>
/// A row whose column does not read as its property (a type the startup check would have refused, or a NULL in a
/// property that cannot hold one) is a <see cref="CorruptPayloadException"/> naming that row's id and the table, from
/// every read: the point read, the batched read and the scan, whose reader reads the key last.
/// </summary>
[Collection("postgres")]
public sealed class TableStoreCorruptRowTests(PostgresServer server)
{
    // A column of the wrong type fails every row, so that table holds only row 2; a NULL fails row 2 after row 1 read.
    [Theory]
    [InlineData("version text NOT NULL", "(2, 'Second Last', 'seven')")]
    [InlineData("version integer", "(1, 'First Last', 1), (2, 'Second Last', NULL)")]
    public async Task EveryRead_ARowThatDoesNotReadAsItsModel_IsCorruptNamingItsId(string column, string rows)
    {
        string table = TestDatabase.UniqueTable("corrupt");
        await server.DataSource.ExecuteAsync(
            $"CREATE TABLE \"{table}\" (id integer PRIMARY KEY, full_name text NOT NULL, {column}); "
                + $"INSERT INTO \"{table}\" VALUES {rows}"
        );
        var store = new PostgreSqlTableOldStore<LegacyCustomer>(
            server.DataSource,
            new() { TableName = table, KeyType = PostgreSqlKeyType.Integer }
        );

        CorruptPayloadException[] failures =
        [
            await Assert.ThrowsAsync<CorruptPayloadException>(() => store.FindAsync("2").AsTask()),
            await Assert.ThrowsAsync<CorruptPayloadException>(() => store.FindManyAsync(["1", "2"]).AsTask()),
            await Assert.ThrowsAsync<CorruptPayloadException>(async () => await store.ScanAsync(null).ToListAsync()),
        ];

        Assert.All(
            failures,
            failure =>
            {
                Assert.Equal("2", failure.EntityId);
                Assert.Contains(table, failure.Message, StringComparison.Ordinal);
                Assert.Contains("LegacyCustomer property", failure.Message, StringComparison.Ordinal);
            }
        );
        Assert.Equal(rows.StartsWith("(1", StringComparison.Ordinal), await store.FindAsync("1") is not null);
    }
}
