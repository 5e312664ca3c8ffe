// The LazyMigrate web service sample: one customer table behind two APIs. The old API (/v1) is legacy code over the
// legacy table; the new API (/v2) goes through IMigratingRepository. Clients switch from one to the other whenever
// they like, and back: write-back carries v2 writes to v1 readers, forward sync carries v1 writes to v2 readers.
//
//   dotnet run --project samples/LazyMigrate.WebService -- --urls http://127.0.0.1:5080
//       [--write-back sync|async] [--postgres "<connection string>"] [--data <folder>] [--records N] [--reset true]
//       [--poll-interval-ms 100] [--max-attempts N]
//
// See docs/switch-over.md for a walk through it with curl.
using LazyMigrate;
using LazyMigrate.QuickStart;
using LazyMigrate.WebService;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
ServiceSettings settings;
try
{
    settings = ServiceSettings.From(builder.Configuration);
}
catch (ArgumentException invalid)
{
    Console.Error.WriteLine(invalid.Message);
    return 2;
}

// The service's own lines and LazyMigrate's; EF Core's and ASP.NET Core's only when something is wrong.
builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
if (builder.Configuration["urls"] is null)
{
    builder.WebHost.UseUrls(ServiceSettings.DefaultUrls);
}

await using ServiceDatabase database = ServiceDatabase.For(settings);
bool seeded;
try
{
    seeded = await database.PrepareAsync(settings.Records, settings.Reset);
}
catch (Exception failure) when (database.Unusable(failure) is { } problem)
{
    // A database that cannot be used as given is the operator's to fix, like a bad flag: one line, no stack trace.
    Console.Error.WriteLine(problem);
    return 1;
}

builder.Services.AddSingleton(settings);
builder.Services.AddSingleton(database);
builder.Services.AddSingleton(database.Legacy);
builder.Services.AddSingleton<OutboxCounters>();
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<MigrationProblems>();

builder.Services.AddMigrationMapper<CustomerMapper>();
ILazyMigrationBuilder<LegacyCustomer, Customer> migration = builder
    .Services.AddLazyMigration<LegacyCustomer, Customer>(
        ServiceDatabase.Migration,
        o =>
        {
            o.WriteBackMode = settings.WriteBack;
            o.ForwardSync = true; // v1 writes reach v2 readers
        }
    )
    // v1 writes go through the old store's dispatcher quickly: the lag a v2 reader may see.
    .ConfigureOutbox(o =>
    {
        o.PollInterval = settings.PollInterval;
        if (settings.MaxAttempts is int maxAttempts)
        {
            o.MaxAttempts = maxAttempts;
        }
    });
database.Configure(migration);
builder.Services.AddLazyMigrationDispatcher();

await using WebApplication app = builder.Build();
app.UseExceptionHandler();

// An error response with no body (a request whose JSON does not bind, say) gets a problem document too.
app.UseStatusCodePages();
app.MapOldApi();
app.MapNewApi();
app.MapStatus();
app.MapDeadLetters();

// Counting starts before the dispatcher's first item.
app.Services.GetRequiredService<OutboxCounters>();
await app.StartAsync();
string addresses = string.Join(
    ", ",
    app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
);
Console.WriteLine(
    $"LazyMigrate web service listening on {addresses}: {database.Description}, write-back {settings.WriteBack}, "
        + (seeded ? $"legacy table seeded with {settings.Records} customers" : "legacy table as it was")
);
await app.WaitForShutdownAsync();
return 0;
