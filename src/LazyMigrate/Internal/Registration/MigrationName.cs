namespace LazyMigrate.Internal;

/// <summary>
/// The default name of a migration, derived from the two types so that every instance of a service computes the same
/// name without configuration: <c>OldCustomer-&gt;Customer</c>, with generic arguments spelled out.
/// </summary>
/// <remarks>
/// The name is a lock-key prefix and an event-id seed, so it must not change from one version to the next: it keeps the
/// short type names, and a second pair with the same short names is refused at registration instead (see <see
/// cref="MigrationName.Pair"/>).
/// </remarks>
internal static class MigrationName<TOld, TNew>
{
    public static readonly string Default = $"{MigrationName.Short(typeof(TOld))}->{MigrationName.Short(typeof(TNew))}";
}

/// <summary>How types are spelled in migration names and in the messages about them.</summary>
internal static class MigrationName
{
    /// <summary>
    /// Spells a pair with full type names, <c>Billing.Customer -&gt; Billing.Account</c>, to tell pairs apart.
    /// </summary>
    public static string Pair(Type oldType, Type newType) => $"{Full(oldType)} -> {Full(newType)}";

    /// <summary>Spells a type by its name, with generic arguments: <c>List&lt;OldOrder&gt;</c>.</summary>
    public static string Short(Type type) => Spell(type, static t => t.Name);

    /// <summary>
    /// Spells a type by its namespace-qualified name (nested types joined by a dot), with generic arguments.
    /// </summary>
    public static string Full(Type type) => Spell(type, static t => (t.FullName ?? t.Name).Replace('+', '.'));

    private static string Spell(Type type, Func<Type, string> name)
    {
        if (!type.IsGenericType)
        {
            return name(type);
        }

        string definition = name(type.GetGenericTypeDefinition());
        int arity = definition.IndexOf('`', StringComparison.Ordinal);
        string arguments = string.Join(",", type.GetGenericArguments().Select(argument => Spell(argument, name)));
        return $"{(arity < 0 ? definition : definition[..arity])}<{arguments}>";
    }
}
