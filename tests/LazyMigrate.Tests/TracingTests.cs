using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using LazyMigrate.Tests.Support;

namespace LazyMigrate.Tests;

/// <summary>
/// A migration's span sits inside the trace of the request that caused it, with the stores' spans beneath it.
/// </summary>
public sealed class TracingTests : IDisposable
{
    private const string RequestsName = "LazyMigrate.Tests.Requests";
    private const string DriverName = "LazyMigrate.Tests.Driver";
    private static readonly ActivitySource Requests = new(RequestsName);
    private static readonly ActivitySource Driver = new(DriverName);
    private static readonly string Id = MigrationHarness.Id(0);

    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public TracingTests()
    {
        // By name: comparing sources would create them while the listener is being added, and they could miss it.
        // Other test classes run at the same time: every assertion picks its spans by trace id.
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is LazyMigrateTelemetry.ActivitySourceName or RequestsName or DriverName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Migration_IsAChildOfTheCallersActivity_WithTheStoresSpansBeneathIt()
    {
        var shared = new SharedStores();
        var tracing = new TracingOldStore(shared.Old);
        await using var harness = MigrationHarness.Create(shared, configure: b => b.UseOldStore(tracing)).SeedLegacy(1);

        (Activity request, NewCustomer? customer) = await ReadInRequestAsync(harness, "GET /customers/0");

        Assert.Equal(MigrationHarness.Mapped(0), customer);
        Activity migrate = Assert.Single(SpansOf(request), a => a.OperationName == "LazyMigrate migrate");
        Assert.Equal(request.TraceId, migrate.TraceId);
        Assert.Equal(request.SpanId, migrate.ParentSpanId);
        Activity query = Assert.Single(SpansOf(request), a => a.OperationName == "driver query");
        Assert.Equal(migrate.SpanId, query.ParentSpanId);
    }

    [Fact]
    public async Task ACallerJoiningAFlight_RecordsAJoinSpan_InItsOwnTrace_LinkedToTheFlightsSpan()
    {
        var shared = new SharedStores();
        await using var harness = MigrationHarness.CreatePausingOldReads(shared, out var gated).SeedLegacy(1);

        Task<(Activity Request, NewCustomer? Customer)> first = ReadInRequestAsync(harness, "first request");
        await gated.Read;
        Task<(Activity Request, NewCustomer? Customer)> second = ReadInRequestAsync(harness, "second request");
        Assert.False(second.IsCompleted); // it waits on the first request's flight: the old store is read once
        gated.Release();
        (Activity starter, _) = await first;
        (Activity joiner, NewCustomer? joined) = await second;

        Assert.Equal(MigrationHarness.Mapped(0), joined);
        Assert.Equal(1, harness.Old.ReadCount);
        Assert.NotEqual(starter.TraceId, joiner.TraceId);
        Activity migrate = Assert.Single(SpansOf(starter), a => a.OperationName == "LazyMigrate migrate");
        Assert.DoesNotContain(SpansOf(starter), a => a.OperationName == "LazyMigrate join");
        Activity join = Assert.Single(SpansOf(joiner), a => a.OperationName == "LazyMigrate join");
        Assert.Equal(joiner.SpanId, join.ParentSpanId);
        ActivityLink link = Assert.Single(join.Links);
        Assert.Equal(migrate.TraceId, link.Context.TraceId);
        Assert.Equal(migrate.SpanId, link.Context.SpanId);
        Assert.Equal(Id, join.GetTagItem("lazymigrate.entity_id"));
    }

    [Fact]
    public async Task ACallerJoiningAFailedMigration_MarksItsJoinSpanAsAnError()
    {
        var shared = new SharedStores();
        await using var harness = MigrationHarness.CreatePausingOldReads(shared, out var gated).SeedLegacy(1);
        harness.Mapper.FailWhen = _ => true;

        Task<(Activity Request, NewCustomer? Customer)> first = ReadInRequestAsync(harness, "first request");
        await gated.Read;
        Task<(Activity Request, NewCustomer? Customer)> second = ReadInRequestAsync(harness, "second request");
        Assert.False(second.IsCompleted); // it waits on the first request's flight, which fails as a typed result
        gated.Release();
        await Assert.ThrowsAsync<MigrationMappingException>(() => first);
        await Assert.ThrowsAsync<MigrationMappingException>(() => second);

        Activity join = Assert.Single(
            _stopped,
            a => a.OperationName == "LazyMigrate join" && a.Parent?.OperationName == "second request"
        );
        Assert.Equal(ActivityStatusCode.Error, join.Status);
        Assert.Equal(nameof(MigrationMappingException), join.StatusDescription);
    }

    [Fact]
    public async Task AJoinSpan_IsStampedWithRealTime_NotTheMigrationsClock()
    {
        var shared = new SharedStores(); // its FakeTimeProvider never moves
        await using var harness = MigrationHarness.CreatePausingOldReads(shared, out var gated).SeedLegacy(1);

        DateTime before = DateTime.UtcNow;
        Task<(Activity Request, NewCustomer? Customer)> first = ReadInRequestAsync(harness, "first request");
        await gated.Read;
        Task<(Activity Request, NewCustomer? Customer)> second = ReadInRequestAsync(harness, "second request");
        gated.Release();
        await first;
        (Activity joiner, _) = await second;
        DateTime after = DateTime.UtcNow;

        Activity join = Assert.Single(SpansOf(joiner), a => a.OperationName == "LazyMigrate join");
        Assert.InRange(join.StartTimeUtc, before, after);
        Assert.InRange(join.StartTimeUtc + join.Duration, join.StartTimeUtc, after);
    }

    [Fact]
    public async Task ActivitySource_CarriesTheLibrarysVersion()
    {
        await using var harness = MigrationHarness.Create().SeedLegacy(1);

        (Activity request, _) = await ReadInRequestAsync(harness, "GET /customers/0");

        Activity migrate = Assert.Single(SpansOf(request), a => a.OperationName == "LazyMigrate migrate");
        Assert.Equal(LibraryVersion(), migrate.Source.Version);
    }

    /// <summary>The package version: the informational version without its source-control suffix.</summary>
    internal static string LibraryVersion()
    {
        var attribute =
            typeof(LazyMigrateTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>();
        string version = attribute!.InformationalVersion;
        Assert.False(string.IsNullOrEmpty(version));
        int plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }

    /// <summary>
    /// Reads in a request of its own; returns once the read waits, with the caller's activity unchanged.
    /// </summary>
    private static async Task<(Activity Request, NewCustomer? Customer)> ReadInRequestAsync(
        MigrationHarness harness,
        string name
    )
    {
        using Activity request = Requests.StartActivity(name)!;
        NewCustomer? customer = await harness.Repository.GetAsync(Id);
        return (request, customer);
    }

    private List<Activity> SpansOf(Activity request) => _stopped.Where(a => a.TraceId == request.TraceId).ToList();

    /// <summary>An old store whose reads record a span, as a database driver does.</summary>
    private sealed class TracingOldStore(IOldStore<OldCustomer> inner) : IOldStore<OldCustomer>
    {
        public ValueTask<OldCustomer?> FindAsync(string id, CancellationToken cancellationToken = default)
        {
            using Activity? query = Driver.StartActivity("driver query");
            return inner.FindAsync(id, cancellationToken);
        }

        public ValueTask<IReadOnlyDictionary<string, OldCustomer>> FindManyAsync(
            IReadOnlyCollection<string> ids,
            CancellationToken cancellationToken = default
        )
        {
            using Activity? query = Driver.StartActivity("driver query");
            return inner.FindManyAsync(ids, cancellationToken);
        }

        public IAsyncEnumerable<KeyValuePair<string, OldCustomer>> ScanAsync(
            string? afterId,
            CancellationToken ct = default
        ) => inner.ScanAsync(afterId, ct);

        public ValueTask UpsertAsync(string id, OldCustomer entity, CancellationToken cancellationToken = default) =>
            inner.UpsertAsync(id, entity, cancellationToken);

        public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default) =>
            inner.DeleteAsync(id, cancellationToken);
    }
}
