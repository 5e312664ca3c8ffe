namespace LazyMigrate;

/// <summary>
/// The default name of a migration, derived from the two types so that every instance of a service computes the same
/// name without configuration: <c>OldCustomer-&gt;Customer</c>, with generic arguments spelled out.
/// </summary>
internal static class MigrationName<TOld, TNew>
{
    public static readonly string Default = $"{Readable(typeof(TOld))}->{Readable(typeof(TNew))}";

    private static string Readable(Type type) => type.IsGenericType
        ? $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(",", type.GetGenericArguments().Select(Readable))}>"
        : type.Name;
}
