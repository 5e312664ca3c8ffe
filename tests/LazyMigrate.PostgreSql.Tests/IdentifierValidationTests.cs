using LazyMigrate.TestKit;
using Npgsql;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// Schema and table names reach SQL text only after a check, and always quoted. No server needed: bad names fail before
/// any command.
/// </summary>
public sealed class IdentifierValidationTests
{
    private static readonly NpgsqlDataSource Unreachable = NpgsqlDataSource.Create(
        "Host=127.0.0.1;Port=1;Username=nobody"
    );

    public static TheoryData<string> BadNames =>
        new()
        {
            "",
            "1table",
            "with-dash",
            "with space",
            "quote\"d",
            "customer; DROP TABLE customer; --",
            "trailing_newline\n",
            "tablé",
            new string('a', 64),
        };

    [Theory]
    [MemberData(nameof(BadNames))]
    public void Store_WithABadTableName_ThrowsNamingTheTableAndTheRule(string table)
    {
        var exception = Assert.Throws<ArgumentException>(() =>
            new PostgreSqlNewStore<Customer>(Unreachable, new PostgreSqlDocumentStoreOptions { TableName = table })
        );

        Assert.Contains($"TableName '{table}' is invalid", exception.Message, StringComparison.Ordinal);
        Assert.Contains("ASCII letters, digits and underscores", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadNames))]
    public void Store_WithABadSchemaName_Throws(string schema)
    {
        var exception = Assert.Throws<ArgumentException>(() =>
            new PostgreSqlOldStore<LegacyCustomer>(Unreachable, new PostgreSqlDocumentStoreOptions { Schema = schema })
        );

        Assert.Contains($"Schema '{schema}' is invalid", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Schema_WithTheReservedPgPrefix_IsRejected()
    {
        var exception = Assert.Throws<ArgumentException>(() =>
            new PostgreSqlNewStore<Customer>(Unreachable, new PostgreSqlDocumentStoreOptions { Schema = "pg_temp" })
        );

        Assert.Contains("reserved", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("_")]
    [InlineData("Customer")]
    [InlineData("customer_v2")]
    [InlineData("a23456789012345678901234567890123456789012345678901234567890123")]
    public void Script_WithAValidName_QuotesItAndKeepsItsCase(string table)
    {
        string script = PostgreSqlDocumentStoreSchema.CreateScript("tenant_1", table);

        Assert.Contains($"CREATE TABLE IF NOT EXISTS \"tenant_1\".\"{table}\" (", script, StringComparison.Ordinal);
        Assert.Contains("CREATE SCHEMA \"tenant_1\";", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Script_WithABadName_Throws()
    {
        Assert.Throws<ArgumentException>(() =>
            PostgreSqlDocumentStoreSchema.CreateScript("public", "x\"; DROP TABLE y; --")
        );
        Assert.Throws<ArgumentException>(() => PostgreSqlDocumentStoreSchema.CreateScript("bad schema", "x"));
    }

    [Fact]
    public void DefaultTableName_IsTheTypeNameInSnakeCase()
    {
        Assert.Equal("\"public\".\"legacy_customer\"", new PostgreSqlOldStore<LegacyCustomer>(Unreachable).TableName);
        Assert.Equal("\"public\".\"customer\"", new PostgreSqlNewStore<Customer>(Unreachable).TableName);
        Assert.Equal("\"public\".\"envelope\"", new PostgreSqlNewStore<Envelope<Customer>>(Unreachable).TableName);
        Assert.Contains(
            "\"public\".\"legacy_customer\"",
            PostgreSqlDocumentStoreSchema.CreateScript<LegacyCustomer>(new PostgreSqlDocumentStoreOptions()),
            StringComparison.Ordinal
        );
    }

    [Fact]
    public void DefaultTableName_ThatCannotBeDerived_AsksForTableName()
    {
        var exception = Assert.Throws<ArgumentException>(() => new PostgreSqlNewStore<Größe>(Unreachable));

        Assert.Contains("set PostgreSqlDocumentStoreOptions.TableName", exception.Message, StringComparison.Ordinal);
        Assert.Equal(
            "\"public\".\"size\"",
            new PostgreSqlNewStore<Größe>(
                Unreachable,
                new PostgreSqlDocumentStoreOptions { TableName = "size" }
            ).TableName
        );
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(100_001)]
    public void ScanPageSize_OutOfRange_IsRejected(int pageSize)
    {
        var exception = Assert.Throws<ArgumentException>(() =>
            new PostgreSqlOldStore<LegacyCustomer>(
                Unreachable,
                new PostgreSqlDocumentStoreOptions { ScanPageSize = pageSize }
            )
        );

        Assert.Contains("ScanPageSize must be between 1 and 100000", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NullJsonOptions_AreRejected()
    {
        var exception = Assert.Throws<ArgumentException>(() =>
            new PostgreSqlOldStore<LegacyCustomer>(
                Unreachable,
                new PostgreSqlDocumentStoreOptions { JsonSerializerOptions = null! }
            )
        );

        Assert.Contains("JsonSerializerOptions must not be null", exception.Message, StringComparison.Ordinal);
    }

    public sealed class Envelope<T>
    {
        public T? Body { get; set; }
    }

    /// <summary>A non-ASCII type name on purpose: no table name can be derived from it.</summary>
    public sealed class Größe
    {
        public int Value { get; set; }
    }
}
