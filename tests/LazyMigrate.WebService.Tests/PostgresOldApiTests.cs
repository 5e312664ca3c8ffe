using System.Net;
using System.Text;
using LazyMigrate.TestKit.Servers;

namespace LazyMigrate.WebService.Tests;

/// <summary>
/// The refusals on PostgreSQL, where the legacy SQL itself, and the new store's jsonb, would fail on what they refuse.
/// </summary>
[Collection(WebServiceCollection.Name)]
public sealed class PostgresOldApiTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task AV1WriteWithANulCharacter_IsRefusedWith400_NamingTheField_AndLeavesTheRowAsItWas()
    {
        string database = await postgres.CreateDatabaseAsync();
        await using WebServiceProcess service = await WebServiceProcess.StartAsync(
            "--records",
            "20",
            "--postgres",
            database
        );
        using HttpClient http = service.CreateClient();
        string before = await http.GetStringAsync("/v1/customers/8");

        (string Body, string Field)[] writes =
        [
            ("""{"fullName":"Ada\u0000 Byron","phone":"(555) 010-0008","creditLimit":0}""", "fullName"),
            ("""{"fullName":"Ada Byron","phone":"(555) 010-0008\u0000","creditLimit":0}""", "phone"),
        ];

        foreach ((string body, string field) in writes)
        {
            HttpResponseMessage response = await http.PutAsync(
                "/v1/customers/8",
                new StringContent(body, Encoding.UTF8, "application/json")
            );

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(
                $"customer 8: {field} holds a NUL character",
                await response.Content.ReadAsStringAsync(),
                StringComparison.Ordinal
            );
        }

        Assert.Equal(before, await http.GetStringAsync("/v1/customers/8"));
    }

    [Fact]
    public async Task AV1CallWithAnIdPastIntRange_IsRefusedWith400_NamingTheId()
    {
        await using WebServiceProcess service = await StartAsync();
        using HttpClient http = service.CreateClient();

        HttpResponseMessage response = await http.GetAsync("/v1/customers/99999999999");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'99999999999'", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AV2SaveWithANulCharacter_IsRefusedWith422_NamingTheCustomer_WithNoRetryAfter_AndChangesNothing()
    {
        await using WebServiceProcess service = await StartAsync();
        using HttpClient http = service.CreateClient();
        string before = await http.GetStringAsync("/v2/customers/9");

        HttpResponseMessage response = await http.PutAsync(
            "/v2/customers/9",
            new StringContent(
                """{"firstName":"A\u0000b","lastName":"Byron","phone":"+15550100009"}""",
                Encoding.UTF8,
                "application/json"
            )
        );

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains(
            "Entity '9' cannot be stored",
            await response.Content.ReadAsStringAsync(),
            StringComparison.Ordinal
        );
        Assert.False(response.Headers.Contains("Retry-After"));
        Assert.Equal(before, await http.GetStringAsync("/v2/customers/9"));
    }

    /// <summary>The service on a database of its own, seeded with 20 customers.</summary>
    private async Task<WebServiceProcess> StartAsync() =>
        await WebServiceProcess.StartAsync("--records", "20", "--postgres", await postgres.CreateDatabaseAsync());
}
