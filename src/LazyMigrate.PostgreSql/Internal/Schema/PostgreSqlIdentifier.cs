using System.Text.RegularExpressions;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Checks and quotes the schema and table names LazyMigrate puts into SQL text. Values never go into SQL text (they
/// are parameters), and names do only after this check, always quoted.
/// </summary>
internal static partial class PostgreSqlIdentifier
{
    /// <summary>The rule, in words, for error messages.</summary>
    public const string Rule =
        "1 to 63 characters, ASCII letters, digits and underscores only, not starting with a digit";

    /// <summary>Tells whether <paramref name="name"/> may be used as a schema or table name.</summary>
    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    /// <summary>
    /// Checks the option <paramref name="option"/> naming a schema: a valid name, not one of PostgreSQL's own
    /// (<c>pg_</c>).
    /// </summary>
    /// <returns>The failure, for an options validator, or <see langword="null"/>.</returns>
    public static string? SchemaFailure(string option, string? schema) =>
        !IsValid(schema) ? $"{option} '{schema}' is invalid: it must be {Rule}."
        : schema!.StartsWith("pg_", StringComparison.Ordinal)
            ? $"{option} '{schema}' is invalid: the prefix pg_ is reserved for PostgreSQL's system schemas."
        : null;

    /// <summary>Checks the option <paramref name="option"/> naming a table.</summary>
    /// <returns>The failure, for an options validator, or <see langword="null"/>.</returns>
    public static string? NameFailure(string option, string? name) =>
        IsValid(name) ? null : $"{option} '{name}' is invalid: it must be {Rule}.";

    /// <summary>
    /// Quotes a name checked by <see cref="IsValid"/>, keeping its case: <c>Customer</c> becomes <c>"Customer"</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The name breaks the rule.</exception>
    public static string Quote(string name, string what) =>
        IsValid(name)
            ? $"\"{name}\""
            : throw new ArgumentException($"The PostgreSQL {what} name '{name}' is invalid: it must be {Rule}.", what);

    // \z, not $: $ also matches before a final line feed.
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
