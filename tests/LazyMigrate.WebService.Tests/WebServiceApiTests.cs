using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace LazyMigrate.WebService.Tests;

/// <summary>The web service's endpoints one by one, on its default SQLite files, over HTTP.</summary>
[Collection(WebServiceCollection.Name)]
public sealed class WebServiceApiTests : WebServiceTests
{
    protected override string[] Arguments => ["--records", "300", "--write-back", "sync"];

    [Fact]
    public async Task TheOldApisList_PagesThroughTheLegacyTable_InIdOrder_AfterTheGivenId()
    {
        var pages = new List<V1Row>();
        int after = 0;
        while (await Http.GetFromJsonAsync<List<V1Row>>($"/v1/customers?after={after}&limit=128") is [_, ..] page)
        {
            pages.AddRange(page);
            after = page[^1].Id;
        }

        Assert.Equal(Enumerable.Range(1, 300), pages.Select(row => row.Id));
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.GetAsync("/v1/customers?after=0&limit=100000")).StatusCode);
    }

    [Fact]
    public async Task AV2Read_MigratesTheCustomer_AndStatusCountsIt()
    {
        V1Row legacy = (await Http.GetFromJsonAsync<V1Row>("/v1/customers/42"))!;

        V2Customer? migrated = await Http.GetFromJsonAsync<V2Customer>("/v2/customers/42");
        JsonElement status = (await Http.GetFromJsonAsync<JsonElement>("/status")).GetProperty("migrations")[0];

        Assert.Equal(CustomerViews.ToV2(legacy.Customer), migrated);
        Assert.Equal("customers", status.GetProperty("name").GetString());
        Assert.Equal("Sync", status.GetProperty("writeBack").GetString());
        Assert.True(status.GetProperty("entitiesMigrated").GetInt64() >= 1);
        Assert.Equal(0, status.GetProperty("deadLetters").GetInt64());
    }

    [Fact]
    public async Task AV2SaveOverALegacyRow_KeepsTheCreditLimitOnlyTheLegacyModelHas()
    {
        V1Row before = (await Http.GetFromJsonAsync<V1Row>("/v1/customers/7"))!;
        var saved = new V2Customer("Ada", "Byron", "+15550109999");

        HttpResponseMessage response = await Http.PutAsJsonAsync("/v2/customers/7", saved);
        V1Row after = (await Http.GetFromJsonAsync<V1Row>("/v1/customers/7"))!;

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(new V1Customer("Ada Byron", "(555) 010-9999", before.CreditLimit), after.Customer);
    }

    [Theory]
    [InlineData("/v2/customers/abc", """{"firstName":"Ada","lastName":"Byron","phone":"+15550109999"}""", "'abc'")]
    [InlineData(
        "/v2/customers/8",
        """{"firstName":"Ada Mary","lastName":"Byron","phone":"+15550109999"}""",
        "customer 8"
    )]
    [InlineData("/v2/customers/8", """{"firstName":"Ada","lastName":"Byron","phone":"555"}""", "customer 8: phone")]
    [InlineData(
        "/v1/customers/8",
        """{"fullName":"","phone":"(555) 010-0008","creditLimit":0}""",
        "customer 8: fullName"
    )]
    [InlineData(
        "/v1/customers/8",
        """{"fullName":"Ada\u0000 Byron","phone":"(555) 010-0008","creditLimit":0}""",
        "customer 8: fullName holds a NUL character"
    )]
    public async Task ABadWrite_IsRefusedWith400_NamingTheCustomerOrTheCause(string path, string body, string named)
    {
        string before = await Http.GetStringAsync("/v1/customers/8");

        HttpResponseMessage response = await Http.PutAsync(
            path,
            new StringContent(body, System.Text.Encoding.UTF8, "application/json")
        );

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(named, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await Http.GetStringAsync("/v1/customers/8"));
    }

    [Theory]
    [InlineData("GET", "99999999999")]
    [InlineData("PUT", "0")]
    [InlineData("DELETE", "-1")]
    [InlineData("GET", "abc")]
    public async Task AV1CallWithAnIdThatIsNotAPositiveInt_IsRefusedWith400_NamingTheIdAndTheCause(
        string method,
        string id
    )
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), $"/v1/customers/{id}")
        {
            Content = method == "PUT" ? JsonContent.Create(new V1Customer("Ada Byron", "(555) 010-0008", 0)) : null,
        };

        HttpResponseMessage response = await Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(
            $"customer id '{id}' is invalid: the legacy table's key is a positive int",
            await response.Content.ReadAsStringAsync(),
            StringComparison.Ordinal
        );
    }

    [Fact]
    public async Task ABodyThatIsNotJson_IsRefusedWith400_AndAProblemDocument()
    {
        HttpResponseMessage response = await Http.PutAsync(
            "/v2/customers/8",
            new StringContent("""{"firstName":""", System.Text.Encoding.UTF8, "application/json")
        );

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AV1DeleteOfAnAbsentCustomer_Is404_AndAV2ReadOfIt_Too()
    {
        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("/v1/customers/9")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await Http.DeleteAsync("/v1/customers/9")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("/v1/customers/9")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("/v2/customers/9")).StatusCode);
    }
}
