using System.Text.Json;
using LazyMigrate.TestKit;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests.Conformance;

/// <summary>
/// The invariant suites' damaged old record on PostgreSQL: a jsonb payload that does not deserialize, written into the
/// old store's row with SQL, and the error docs/postgresql.md promises for it.
/// </summary>
internal static class CorruptOldRecords
{
    public static async Task CorruptAsync(NpgsqlDataSource dataSource, IOldStore<LegacyCustomer> old, string id)
    {
        string table = ((PostgreSqlOldStore<LegacyCustomer>)old).TableName;
        int updated = await dataSource.ExecuteAsync(
            $"UPDATE {table} SET payload = $2::jsonb WHERE id = $1",
            id,
            CorruptPayloadTests.CorruptJson
        );
        Assert.Equal(1, updated);
    }

    /// <summary>
    /// A <see cref="CorruptPayloadException"/> naming the entity and the table, the <see cref="JsonException"/>
    /// inside, and never the payload; passed on unchanged by the repository.
    /// </summary>
    public static void AssertCorruptPayload(LazyMigrationException failure, string id)
    {
        var corrupt = Assert.IsType<CorruptPayloadException>(failure);
        Assert.Equal(id, corrupt.EntityId);
        Assert.Contains($"'{id}'", corrupt.Message, StringComparison.Ordinal);
        Assert.Contains(corrupt.TableName, corrupt.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not a number", corrupt.Message, StringComparison.Ordinal);
        Assert.IsType<JsonException>(corrupt.InnerException);
    }
}
