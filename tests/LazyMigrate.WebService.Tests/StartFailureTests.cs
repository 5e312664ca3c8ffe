using LazyMigrate.TestKit.Servers;
using Npgsql;

namespace LazyMigrate.WebService.Tests;

/// <summary>
/// A start that cannot go on, as the operator sees it: one line naming the problem (where the database was looked
/// for, never the password), no stack trace, and a non-zero exit code.
/// </summary>
[Collection(WebServiceCollection.Name)]
public sealed class StartFailureTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    private const string Password = "not-to-be-printed";

    [Fact]
    public async Task AnUnreachablePostgreSql_PrintsOneLineNamingHostPortAndDatabase_AndExits1()
    {
        int port = FreeTcpPort.Find();

        var (exitCode, output) = await WebServiceProcess.ExitAsync(
            "--postgres",
            $"Host=127.0.0.1;Port={port};Database=shop;Username=shop;Password={Password};Timeout=5"
        );

        AssertOneLine(exitCode, output, $"PostgreSQL at host 127.0.0.1, port {port}, database shop cannot be reached");
    }

    [Fact]
    public async Task AMissingDatabase_PrintsOneLineNamingIt_AndExits1()
    {
        var missing = new NpgsqlConnectionStringBuilder(postgres.ConnectionString)
        {
            Database = "no_such_database",
            Password = Password,
        };

        var (exitCode, output) = await WebServiceProcess.ExitAsync("--postgres", missing.ConnectionString);

        AssertOneLine(
            exitCode,
            output,
            $"PostgreSQL at host {missing.Host}, port {missing.Port}, database no_such_database: "
                + "database \"no_such_database\" does not exist"
        );
    }

    [Fact]
    public async Task AConnectionStringNpgsqlCannotRead_PrintsOneLineNamingTheOption_AndExits2()
    {
        var (exitCode, output) = await WebServiceProcess.ExitAsync(
            "--postgres",
            $"Host=127.0.0.1;Port=none;Password={Password}"
        );

        Assert.Equal(2, exitCode);
        Assert.StartsWith(
            "--postgres is not a connection string Npgsql reads",
            output.Trim(),
            StringComparison.Ordinal
        );
        Assert.DoesNotContain(Password, output, StringComparison.Ordinal);
    }

    private static void AssertOneLine(int exitCode, string output, string expected)
    {
        Assert.True(exitCode == 1, $"exit code {exitCode}:\n{output}");
        Assert.StartsWith(expected, Assert.Single(output.Trim().Split('\n')), StringComparison.Ordinal);
        Assert.DoesNotContain(Password, output, StringComparison.Ordinal);
    }
}
