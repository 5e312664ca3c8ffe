namespace LazyMigrate.Internal;

/// <summary>
/// Runs a user's mapper so that whatever it does wrong becomes a <see cref="MigrationMappingException"/> naming the
/// entity.
/// </summary>
internal static class Mapping
{
    public static TOut Run<TIn, TOut>(string migration, string id, string mapperName, Func<TIn, TOut?> map, TIn input)
        where TOut : class
    {
        TOut? mapped;
        try
        {
            mapped = map(input);
        }
        catch (Exception exception)
        {
            throw new MigrationMappingException(
                migration,
                id,
                $"the {mapperName} threw {exception.GetType().Name}: {exception.Message}",
                exception
            );
        }

        return mapped ?? throw new MigrationMappingException(migration, id, $"the {mapperName} returned null");
    }
}
