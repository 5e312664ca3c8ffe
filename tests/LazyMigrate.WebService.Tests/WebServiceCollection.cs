namespace LazyMigrate.WebService.Tests;

/// <summary>
/// Every class that starts the service, in one collection: run one after the other, not side by side on two cores,
/// where each fleet's lag and each request's bound would measure the others' load too.
/// </summary>
[CollectionDefinition(Name)]
public sealed class WebServiceCollection
{
    public const string Name = "web service";
}
