namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>The message of a start-up validation that finds no context factory registered.</summary>
internal static class ContextFactoryChecks
{
    public static string Missing(Type contextType) =>
        $"No IDbContextFactory<{contextType.Name}> is registered: "
        + $"call services.AddDbContextFactory<{contextType.Name}>(...).";
}
