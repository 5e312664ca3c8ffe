namespace LazyMigrate.WebService.Tests;

/// <summary>
/// A test class whose every test gets a service of its own, started with <see cref="Arguments"/> before the test and
/// stopped after it, and a client of it.
/// </summary>
public abstract class WebServiceTests : IAsyncLifetime
{
    private WebServiceProcess _service = null!;

    /// <summary>Gets the client of the running service.</summary>
    protected HttpClient Http { get; private set; } = null!;

    /// <summary>Gets what the service has written to its console so far.</summary>
    protected string Output => _service.Output;

    /// <summary>Gets the service's command line.</summary>
    protected abstract string[] Arguments { get; }

    public async Task InitializeAsync()
    {
        _service = await WebServiceProcess.StartAsync(Arguments);
        Http = _service.CreateClient();
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await _service.DisposeAsync();
    }
}
