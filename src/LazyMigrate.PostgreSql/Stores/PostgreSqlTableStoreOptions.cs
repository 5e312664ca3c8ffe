using System.Linq.Expressions;
using System.Reflection;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// Options of a <see cref="PostgreSqlTableOldStore{TOld}"/>: which existing table holds the old entities, its key, and
/// how its columns map to <typeparamref name="TOld"/>. Validated at start-up (or by the store's constructor).
/// </summary>
/// <typeparam name="TOld">The entity type of the old store.</typeparam>
/// <remarks>
/// By convention every public readable property of <typeparamref name="TOld"/> maps to the column named its
/// snake_case name (<c>FullName</c> to <c>full_name</c>); <see cref="MapColumn{TValue}"/> renames one,
/// <see cref="Ignore{TValue}"/> leaves one out, and <see cref="UseRowMapping"/> replaces the convention for rows it
/// cannot describe.
/// <typeparamref name="TOld"/> is built through a public parameterless constructor and settable (or <c>init</c>)
/// properties, or through the public constructor whose parameters match properties by name (records).
/// </remarks>
public sealed class PostgreSqlTableStoreOptions<TOld>
    where TOld : class
{
    private readonly Dictionary<string, string> _columns = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ignored = new(StringComparer.Ordinal);

    /// <summary>Gets or sets the schema of the table. Always quoted, so case matters.</summary>
    /// <value>The default value is <c>public</c>.</value>
    public string Schema { get; set; } = "public";

    /// <summary>
    /// Gets or sets the name of the existing table: ASCII letters, digits and underscores, at most 63 characters, not
    /// starting with a digit. Always quoted, so case matters. Required.
    /// </summary>
    /// <value>The default value is <see langword="null"/>, which fails validation.</value>
    public string? TableName { get; set; }

    /// <summary>
    /// Gets or sets the key column: the primary key, or a column with a unique index of its own (an upsert's
    /// <c>ON CONFLICT</c> needs one). An entity id is its value in canonical form (see <see cref="KeyType"/>).
    /// </summary>
    /// <value>The default value is <c>id</c>.</value>
    public string KeyColumn { get; set; } = "id";

    /// <summary>
    /// Gets or sets the type of the key column. <see langword="null"/> takes it from the CLR type of the member mapped
    /// to <see cref="KeyColumn"/>: <see cref="string"/>, <see cref="int"/>, <see cref="long"/> or <see cref="Guid"/>
    /// (a <see cref="string"/> member then means <see cref="PostgreSqlKeyType.Text"/>). Required when no member maps
    /// to the key, or when a <see cref="string"/> member holds a number or UUID key (it then holds the id).
    /// </summary>
    /// <value>The default value is <see langword="null"/> (from the key member).</value>
    public PostgreSqlKeyType? KeyType { get; set; }

    /// <summary>Gets or sets how many rows one query of a scan reads.</summary>
    /// <value>The default value is 1000.</value>
    public int ScanPageSize { get; set; } = 1000;

    /// <summary>
    /// Gets or sets whether an upsert of an <c>integer</c> or <c>bigint</c> key that takes its values from a sequence
    /// (<c>serial</c>, <c>identity</c>) advances the sequence past the key, in the same round trip and transaction, so
    /// that the legacy application's own inserts never collide with a row written here. Needs <c>UPDATE</c> on the
    /// sequence. See docs/postgresql.md for the limits.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool AdvanceKeySequence { get; set; } = true;

    /// <summary>
    /// Gets or sets whether the host checks the table when it starts (registered through
    /// <c>UsePostgreSqlTableOldStore</c>): it exists, the key column has <see cref="KeyType"/>'s type and is the
    /// primary key or has a unique index of its own, and every mapped column exists with a type compatible with its
    /// member. A failed check fails <c>host.StartAsync()</c> with an <see cref="InvalidOperationException"/> naming the
    /// migration, the table and every missing or mismatched column.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool CheckOnStart { get; set; } = true;

    /// <summary>
    /// Gets or sets whether the store prepares its statements on each pooled connection, as
    /// <see cref="PostgreSqlDocumentStoreOptions.PrepareStatements"/> does.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool PrepareStatements { get; set; } = true;

    /// <summary>Gets the column overrides of <see cref="MapColumn{TValue}"/>, by property name.</summary>
    internal IReadOnlyDictionary<string, string> Columns => _columns;

    /// <summary>Gets the names of the properties <see cref="Ignore{TValue}"/> left out.</summary>
    internal IReadOnlySet<string> Ignored => _ignored;

    /// <summary>Gets the row mapping of <see cref="UseRowMapping"/>, if any.</summary>
    internal TableRowMapping<TOld>? RowMapping { get; private set; }

    /// <summary>
    /// Gets or sets whether the data source comes from the container (set by the builder extension), so validation
    /// checks one is registered.
    /// </summary>
    internal bool DataSourceFromContainer { get; set; }

    /// <summary>Maps a property to a column whose name is not the property's snake_case name.</summary>
    /// <typeparam name="TValue">The property type.</typeparam>
    /// <param name="property">The property, as <c>x =&gt; x.FullName</c>.</param>
    /// <param name="column">The column name (validated at start-up; always quoted, so case matters).</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException"><paramref name="property"/> is not a property of
    /// <typeparamref name="TOld"/>.</exception>
    public PostgreSqlTableStoreOptions<TOld> MapColumn<TValue>(Expression<Func<TOld, TValue>> property, string column)
    {
        ArgumentNullException.ThrowIfNull(column);
        string name = PropertyName(property);
        _columns[name] = column;
        _ignored.Remove(name);
        return this;
    }

    /// <summary>Leaves a property out of the mapping: it is neither read nor written.</summary>
    /// <typeparam name="TValue">The property type.</typeparam>
    /// <param name="property">The property, as <c>x =&gt; x.Computed</c>.</param>
    /// <returns>These options.</returns>
    /// <exception cref="ArgumentException"><paramref name="property"/> is not a property of
    /// <typeparamref name="TOld"/>.</exception>
    public PostgreSqlTableStoreOptions<TOld> Ignore<TValue>(Expression<Func<TOld, TValue>> property)
    {
        string name = PropertyName(property);
        _ignored.Add(name);
        _columns.Remove(name);
        return this;
    }

    /// <summary>
    /// Reads and writes rows with delegates, for what the convention cannot say (a value split over two columns, a
    /// text enum, a computed member). The delegates own <paramref name="columns"/>, the key aside: only those are read
    /// and written.
    /// </summary>
    /// <param name="columns">The columns the mapping reads and writes, the key column excluded.</param>
    /// <param name="read">
    /// Builds an entity from the current row: the reader holds <paramref name="columns"/> at ordinals 0 to n - 1, in
    /// their order, and the key at ordinal n; the string is the entity id (the key in canonical form).
    /// </param>
    /// <param name="write">
    /// Adds one parameter per column of <paramref name="columns"/>, in their order (for example
    /// <c>p.Add(new NpgsqlParameter&lt;string&gt; { TypedValue = x.FullName })</c>); a <see langword="null"/> value or
    /// <see cref="DBNull.Value"/> writes SQL NULL.
    /// </param>
    /// <returns>These options.</returns>
    public PostgreSqlTableStoreOptions<TOld> UseRowMapping(
        IReadOnlyList<string> columns,
        Func<NpgsqlDataReader, string, TOld> read,
        Action<TOld, NpgsqlParameterCollection> write
    )
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(write);
        RowMapping = new TableRowMapping<TOld>([.. columns], read, write);
        return this;
    }

    private static string PropertyName<TValue>(Expression<Func<TOld, TValue>> property)
    {
        ArgumentNullException.ThrowIfNull(property);
        Expression body = property.Body is UnaryExpression { NodeType: ExpressionType.Convert } convert
            ? convert.Operand
            : property.Body;
        return
            body is MemberExpression { Member: PropertyInfo member } access
            && access.Expression == property.Parameters[0]
            ? member.Name
            : throw new ArgumentException(
                $"'{property}' is not a property of {typeof(TOld).Name}: pass one as x => x.Property.",
                nameof(property)
            );
    }
}
