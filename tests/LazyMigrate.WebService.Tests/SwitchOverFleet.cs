using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LazyMigrate.TestKit;

namespace LazyMigrate.WebService.Tests;

/// <summary>
/// A fleet of clients switching from the old API to the new one, each on its own schedule, over a shared set of
/// customer ids: every client starts on v1, switches to v2 at a random request, and some switch back later. Each
/// request is checked as it returns (no failure, reads of its own writes, the other API's view) and the stores are
/// compared customer by customer once the outbox drained.
/// </summary>
internal sealed class SwitchOverFleet : IDisposable
{
    private readonly FleetSettings _settings;
    private readonly FleetReport _report = new();
    private readonly HttpClient _http;
    private Dictionary<int, ExpectedCustomer> _customers = [];

    private SwitchOverFleet(WebServiceProcess service, FleetSettings settings)
    {
        _settings = settings;
        _http = service.CreateClient();
    }

    /// <summary>Runs the fleet to its end, drains the outbox, checks both stores and returns what it saw.</summary>
    public static async Task<FleetReport> RunAsync(WebServiceProcess service, FleetSettings settings)
    {
        using var fleet = new SwitchOverFleet(service, settings);
        await fleet.LoadSeededAsync();
        await Task.WhenAll(Enumerable.Range(0, settings.Clients).Select(fleet.ClientAsync));
        if (await fleet.DrainedStatusAsync() is { } status)
        {
            await fleet.CompareStoresAsync();
            fleet.Count(status);
            await fleet.CheckNoEchoAsync(status);
        }

        return fleet._report;
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The seeded customers, through the old API's list: what both APIs return before anyone writes.</summary>
    private async Task LoadSeededAsync()
    {
        List<V1Row> rows =
            await _http.GetFromJsonAsync<List<V1Row>>(
                string.Create(CultureInfo.InvariantCulture, $"/v1/customers?after=0&limit={_settings.Ids}")
            ) ?? [];
        Assert.Equal(Enumerable.Range(1, _settings.Ids), rows.Select(row => row.Id));
        _customers = rows.ToDictionary(row => row.Id, row => new ExpectedCustomer(row.Id, row.Customer));
    }

    private async Task ClientAsync(int client)
    {
        var random = new Random(_settings.Seed + client);
        int operations = _settings.OperationsPerClient;
        int switchAt = random.Next(operations);
        int? backAt = client % _settings.RollbackEvery == 0 ? random.Next(switchAt, operations) : null;
        for (int n = 0; n < operations; n++)
        {
            if (n == switchAt)
            {
                _report.Switched(back: false);
            }

            if (n == backAt)
            {
                _report.Switched(back: true);
            }

            bool onV2 = n >= switchAt && !(n >= backAt);
            ExpectedCustomer customer = _customers[random.Next(1, _settings.Ids + 1)];
            string who = string.Create(CultureInfo.InvariantCulture, $"client {client} request {n}");
            double roll = random.NextDouble();
            await customer.Gate.WaitAsync();
            try
            {
                await (
                    roll < 0.45 ? ReadAsync(onV2, customer, who)
                    : roll < 0.90 ? SaveAsync(onV2, customer, who, random)
                    : DeleteAsync(onV2, customer, who, random)
                );
            }
            catch (Exception failure) when (failure is HttpRequestException or TaskCanceledException)
            {
                _report.Violation($"{who}: customer {customer.Id}: the request failed: {failure.Message}");
            }
            finally
            {
                customer.Gate.Release();
            }
        }
    }

    private async Task ReadAsync(bool onV2, ExpectedCustomer customer, string who)
    {
        if (onV2)
        {
            V2Customer? read = await V2Async(customer, who);
            if (!customer.NewMayLag && read != customer.New)
            {
                Wrong(customer, who, "v2 read", customer.New, read);
            }

            customer.Migrated |= read is not null;
        }
        else
        {
            V1Customer? read = await V1Async(customer, who);
            if (!customer.OldMayLag && !customer.OldIs(read))
            {
                Wrong(customer, who, "v1 read", customer.Old, read);
            }
        }
    }

    private async Task SaveAsync(bool onV2, ExpectedCustomer customer, string who, Random random)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"W{random.Next(1_000_000)}x{customer.Id}");
        var written = new V2Customer($"C{who.Split(' ')[1]}", name, CustomerViews.RandomE164(random));
        if (onV2)
        {
            await ExpectAsync(customer, who, "v2 save", await _http.PutAsJsonAsync(V2Path(customer), written));
            // The write-back keeps the legacy row's credit limit, or gives a new row the default; a v2 delete not
            // yet written back may have left the row there, or not.
            bool rowMayBeThere = customer.OldMayLag && customer.Old is null;
            customer.LimitKnown = !rowMayBeThere && (customer.Old is null || customer.LimitKnown);
            customer.Old = CustomerViews.ToV1(written, customer.Old?.CreditLimit ?? 0);
            customer.New = written;
            await AfterV2WriteAsync(customer, who, "save", random);
        }
        else
        {
            V1Customer legacy = CustomerViews.ToV1(written, random.Next(1, 10) * 1_000);
            await ExpectAsync(customer, who, "v1 save", await _http.PutAsJsonAsync(V1Path(customer), legacy));
            (customer.Old, customer.LimitKnown, customer.New) = (legacy, true, written);
            await AfterV1WriteAsync(customer, who, "save", random);
        }
    }

    private async Task DeleteAsync(bool onV2, ExpectedCustomer customer, string who, Random random)
    {
        if (onV2)
        {
            await ExpectAsync(customer, who, "v2 delete", await _http.DeleteAsync(V2Path(customer)));
            (customer.Old, customer.New) = (null, null);
            await AfterV2WriteAsync(customer, who, "delete", random);
            return;
        }

        HttpResponseMessage response = await _http.DeleteAsync(V1Path(customer));
        _report.Request();
        if (response.StatusCode == HttpStatusCode.NotFound && (customer.Old is null || customer.OldMayLag))
        {
            // Nothing to delete (yet): a no-op, nothing changes.
            response.Dispose();
            return;
        }

        if (response.StatusCode == HttpStatusCode.NoContent && customer.Old is null && !customer.OldMayLag)
        {
            _report.Violation($"{who}: customer {customer.Id}: v1 delete found a row where none should be");
        }

        await ExpectAsync(customer, who, "v1 delete", response, counted: true);
        (customer.Old, customer.New) = (null, null);
        await AfterV1WriteAsync(customer, who, "delete", random);
    }

    /// <summary>A v2 write is read back through v2 at once; through v1 at once with Sync, else after the lag.</summary>
    private async Task AfterV2WriteAsync(ExpectedCustomer customer, string who, string write, Random random)
    {
        _report.V2Write();
        customer.LastWrite = $"v2 {write} by {who}";
        (customer.Migrated, customer.NewMayLag) = (true, false);
        V2Customer? own = await V2Async(customer, who);
        if (own != customer.New)
        {
            Wrong(customer, who, $"v2 read of its own v2 {write}", customer.New, own);
        }

        if (_settings.V2WritesAtOnceOnV1)
        {
            customer.OldMayLag = false;
            V1Customer? other = await V1Async(customer, who);
            if (!customer.OldIs(other))
            {
                Wrong(customer, who, $"v1 read right after a Sync v2 {write}", customer.Old, other);
            }
        }
        else
        {
            customer.OldMayLag = true;
            if (random.NextDouble() < _settings.ProbeShare)
            {
                await ProbeAsync(customer, who, fromV2: true, async () => customer.OldIs(await V1Async(customer, who)));
            }
        }
    }

    /// <summary>
    /// A v1 write is read back through v1 at once; through v2 at once where the new store learns of it in the write's
    /// transaction, or when the customer never migrated (the read migrates the fresh row), else after the lag.
    /// </summary>
    private async Task AfterV1WriteAsync(ExpectedCustomer customer, string who, string write, Random random)
    {
        _report.V1Write(customer.Migrated);
        customer.LastWrite = $"v1 {write} by {who}";
        customer.OldMayLag = false;
        V1Customer? own = await V1Async(customer, who);
        if (!customer.OldIs(own))
        {
            Wrong(customer, who, $"v1 read of its own v1 {write}", customer.Old, own);
        }

        if (_settings.V1WritesAtOnceOnV2 || !customer.Migrated)
        {
            customer.NewMayLag = false;
            V2Customer? other = await V2Async(customer, who);
            customer.Migrated |= other is not null;
            if (other != customer.New)
            {
                Wrong(customer, who, $"v2 read right after a v1 {write}", customer.New, other);
            }
        }
        else
        {
            customer.NewMayLag = true;
            if (random.NextDouble() < _settings.ProbeShare)
            {
                await ProbeAsync(
                    customer,
                    who,
                    fromV2: false,
                    async () => await V2Async(customer, who) == customer.New
                );
            }
        }
    }

    /// <summary>Reads through the other API until it shows the write, and records how long that took.</summary>
    private async Task ProbeAsync(ExpectedCustomer customer, string who, bool fromV2, Func<Task<bool>> shows)
    {
        Stopwatch clock = Stopwatch.StartNew();
        string other = fromV2 ? "v1" : "v2";
        if (await ViolatedAsync(shows, $"{who}: customer {customer.Id}: {customer.LastWrite} shows through {other}"))
        {
            return;
        }

        _report.Lag(fromV2, clock.Elapsed);
        (customer.OldMayLag, customer.NewMayLag) = fromV2 ? (false, customer.NewMayLag) : (customer.OldMayLag, false);
    }

    /// <summary>Waits until nothing is pending in the outbox; returns the status then, or null if it failed.</summary>
    private async Task<JsonElement?> DrainedStatusAsync()
    {
        JsonElement status = default;
        async Task<bool> DrainedAsync()
        {
            status = await StatusAsync();
            return status.GetProperty("writeBacksPending").GetInt64()
                    + status.GetProperty("forwardSyncsPending").GetInt64()
                    + status.GetProperty("eventsPending").GetInt64()
                == 0;
        }

        if (await ViolatedAsync(DrainedAsync, "the outbox drains"))
        {
            return null;
        }

        if (status.GetProperty("deadLetters").GetInt64() > 0)
        {
            _report.Violation($"dead letters after the run: {status}");
            return null;
        }

        return status;
    }

    /// <summary>
    /// Waits within the lag bound for a state only a request can see (<see cref="Eventually"/>); records a violation,
    /// and returns <see langword="true"/>, when it never came.
    /// </summary>
    private async Task<bool> ViolatedAsync(Func<Task<bool>> condition, string what)
    {
        try
        {
            await Eventually.TrueAsync(condition, _settings.LagBound, what);
            return false;
        }
        catch (TimeoutException timeout)
        {
            _report.Violation(timeout.Message);
            return true;
        }
    }

    /// <summary>
    /// Once drained, each customer: both APIs return what the last write to it made (deleted in both where it
    /// deleted), and the legacy row is the new customer mapped back.
    /// </summary>
    private async Task CompareStoresAsync()
    {
        foreach (ExpectedCustomer customer in _customers.Values)
        {
            V1Customer? old = await V1Async(customer, "the final check");
            V2Customer? neu = await V2Async(customer, "the final check");
            if (!customer.OldIs(old))
            {
                Wrong(customer, "the final check", "v1 read", customer.Old, old);
            }

            if (neu != customer.New)
            {
                Wrong(customer, "the final check", "v2 read", customer.New, neu);
            }

            bool agree = (old, neu) switch
            {
                (null, null) => true,
                ({ } legacy, { } current) => CustomerViews.ToV1(current, legacy.CreditLimit) == legacy,
                _ => false,
            };
            if (!agree)
            {
                _report.Violation($"customer {customer.Id}: the stores disagree: old {Show(old)}, new {Show(neu)}");
            }
        }
    }

    private void Count(JsonElement status)
    {
        JsonElement applied = status.GetProperty("applied");
        _report.ForwardSyncsApplied = Counter(applied, "forward_sync");
        _report.WriteBacksApplied = Counter(applied, "write_back");
        _report.ForwardSyncsSkipped = string.Join(
            ", ",
            status
                .GetProperty("skipped")
                .EnumerateObject()
                .Where(p => p.Name.StartsWith("forward_sync", StringComparison.Ordinal))
                .Select(p => $"{p.Name} {p.Value}")
        );
        _report.ForwardSyncsHandled = ForwardSyncs(status);

        // Every forward sync item comes from a v1 write that changed a row (several may coalesce into one); an echo of
        // a write-back would be one more, applied or skipped as unchanged.
        if (_report.ForwardSyncsHandled > _report.V1Writes)
        {
            _report.Violation(
                $"{_report.ForwardSyncsHandled} forward syncs applied or skipped for {_report.V1Writes} v1 writes: "
                    + "some came from somewhere else (an echo of a write-back?)"
            );
        }

        if (_report.ForwardSyncsApplied > _report.V1WritesToMigrated)
        {
            _report.Violation(
                $"{_report.ForwardSyncsApplied} forward syncs applied for {_report.V1WritesToMigrated} v1 writes to "
                    + "migrated customers"
            );
        }
    }

    /// <summary>The forward sync items the dispatcher completed so far, applied or skipped for any reason.</summary>
    private static long ForwardSyncs(JsonElement status) =>
        Counter(status.GetProperty("applied"), "forward_sync")
        + status
            .GetProperty("skipped")
            .EnumerateObject()
            .Where(p => p.Name.StartsWith("forward_sync", StringComparison.Ordinal))
            .Sum(p => p.Value.GetInt64());

    /// <summary>
    /// v2 saves after the run, their write-backs applied: none comes back as a forward sync, applied or skipped.
    /// </summary>
    private async Task CheckNoEchoAsync(JsonElement before)
    {
        var random = new Random(_settings.Seed);
        foreach (ExpectedCustomer customer in _customers.Values.Where(c => c.Migrated).Take(20))
        {
            var written = new V2Customer("Echo", $"Check{customer.Id}", CustomerViews.RandomE164(random));
            await ExpectAsync(
                customer,
                "the echo check",
                "v2 save",
                await _http.PutAsJsonAsync(V2Path(customer), written)
            );
        }

        if (await DrainedStatusAsync() is not { } after)
        {
            return;
        }

        if (ForwardSyncs(after) != ForwardSyncs(before))
        {
            _report.Violation($"v2 saves came back as forward syncs: before {before}, after {after}");
        }
    }

    private async Task<JsonElement> StatusAsync()
    {
        JsonElement status = await _http.GetFromJsonAsync<JsonElement>("/status");
        return status.GetProperty("migrations")[0];
    }

    private static long Counter(JsonElement counters, string name) =>
        counters.TryGetProperty(name, out JsonElement value) ? value.GetInt64() : 0;

    private async Task<V1Customer?> V1Async(ExpectedCustomer customer, string who) =>
        (await ReadAsync<V1Row>(V1Path(customer), customer, who))?.Customer;

    private Task<V2Customer?> V2Async(ExpectedCustomer customer, string who) =>
        ReadAsync<V2Customer>(V2Path(customer), customer, who);

    private async Task<T?> ReadAsync<T>(string path, ExpectedCustomer customer, string who)
        where T : class
    {
        _report.Request();
        using HttpResponseMessage response = await _http.GetAsync(path);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            _report.Violation(
                $"{who}: customer {customer.Id}: GET {path} answered {(int)response.StatusCode}: "
                    + await response.Content.ReadAsStringAsync()
            );
            return null;
        }

        return await response.Content.ReadFromJsonAsync<T>();
    }

    private async Task ExpectAsync(
        ExpectedCustomer customer,
        string who,
        string request,
        HttpResponseMessage response,
        bool counted = false
    )
    {
        if (!counted)
        {
            _report.Request();
        }

        using (response)
        {
            if (response.StatusCode != HttpStatusCode.NoContent)
            {
                _report.Violation(
                    $"{who}: customer {customer.Id}: {request} answered {(int)response.StatusCode}: "
                        + await response.Content.ReadAsStringAsync()
                );
            }
        }
    }

    private void Wrong(ExpectedCustomer customer, string who, string read, object? expected, object? actual) =>
        _report.Violation(
            $"{who}: customer {customer.Id}: {read} returned {Show(actual)}, expected {Show(expected)} "
                + $"(last write: {customer.LastWrite})"
        );

    private static string Show(object? value) => value?.ToString() ?? "404";

    private static string V1Path(ExpectedCustomer customer) =>
        string.Create(CultureInfo.InvariantCulture, $"/v1/customers/{customer.Id}");

    private static string V2Path(ExpectedCustomer customer) =>
        string.Create(CultureInfo.InvariantCulture, $"/v2/customers/{customer.Id}");
}
