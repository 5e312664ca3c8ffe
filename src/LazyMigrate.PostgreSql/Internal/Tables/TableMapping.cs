using System.Linq.Expressions;
using System.Reflection;
using System.Text.Json;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// How one table's rows become <typeparamref name="TOld"/> and back, built once per store from its options: the key,
/// the columns the mapping owns, and a reader and a writer compiled from expression trees (typed
/// <c>GetFieldValue</c> and typed parameters per column, no reflection per row).
/// </summary>
internal sealed class TableMapping<TOld>
    where TOld : class
{
    private static readonly MethodInfo GetFieldValue = typeof(NpgsqlDataReader)
        .GetMethods()
        .Single(m => m.Name == nameof(NpgsqlDataReader.GetFieldValue) && m.GetParameters().Length == 1);

    private static readonly MethodInfo IsDBNull = typeof(NpgsqlDataReader).GetMethod(
        nameof(NpgsqlDataReader.IsDBNull),
        [typeof(int)]
    )!;

    private static readonly MethodInfo AddParameter = typeof(NpgsqlParameterCollection).GetMethod(
        nameof(NpgsqlParameterCollection.Add),
        [typeof(NpgsqlParameter)]
    )!;

    private TableMapping(
        DocumentTableName table,
        string keyColumn,
        TableKey key,
        IReadOnlyList<TableColumn> columns,
        Func<NpgsqlDataReader, string, TOld> read,
        Action<TOld, NpgsqlParameterCollection> write,
        Func<IReadOnlyList<TOld>, NpgsqlParameter>[]? columnArrays
    )
    {
        Table = table;
        KeyColumn = keyColumn;
        Key = key;
        Columns = columns;
        Read = read;
        Write = write;
        ColumnArrays = columnArrays;
    }

    public DocumentTableName Table { get; }

    /// <summary>Gets the key column's name, unquoted.</summary>
    public string KeyColumn { get; }

    public TableKey Key { get; }

    /// <summary>Gets the columns the mapping reads and writes, the key excluded, in ordinal order.</summary>
    public IReadOnlyList<TableColumn> Columns { get; }

    /// <summary>Builds an entity from the current row (columns at 0 to n - 1, the key at n) and its id.</summary>
    public Func<NpgsqlDataReader, string, TOld> Read { get; }

    /// <summary>Reads the current row with <see cref="Read"/>, a column that does not read as its property being a
    /// corrupt row.</summary>
    /// <exception cref="CorruptPayloadException">A column does not read as its property.</exception>
    public TOld ReadEntity(NpgsqlDataReader reader, string id)
    {
        try
        {
            return Read(reader, id);
        }
        catch (InvalidCastException exception)
        {
            throw new CorruptPayloadException(
                id,
                Table.Qualified,
                $"a column does not read as its {typeof(TOld).Name} property: {exception.Message}",
                exception
            );
        }
    }

    /// <summary>Adds one parameter per column, in order.</summary>
    public Action<TOld, NpgsqlParameterCollection> Write { get; }

    /// <summary>
    /// Gets, per column in order, the column's values of many entities as one array parameter of the property's stored
    /// type, for the batch upsert; <see langword="null"/> for a row mapping, whose writer adds parameters of its own
    /// choosing one row at a time.
    /// </summary>
    public IReadOnlyList<Func<IReadOnlyList<TOld>, NpgsqlParameter>>? ColumnArrays { get; }

    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static TableMapping<TOld> Build(PostgreSqlTableStoreOptions<TOld> options)
    {
        var failures = new List<string>();
        TableMapping<TOld>? mapping = TryBuild(options, failures);
        return mapping
            ?? throw new ArgumentException(
                $"PostgreSQL table store of {typeof(TOld).Name}: {string.Join(" ", failures)}",
                nameof(options)
            );
    }

    /// <summary>Builds the mapping, or adds to <paramref name="failures"/> everything wrong with the options.</summary>
    public static TableMapping<TOld>? TryBuild(PostgreSqlTableStoreOptions<TOld> options, List<string> failures)
    {
        int before = failures.Count;
        CheckName(options.Schema, "Schema", failures);
        if (options.Schema?.StartsWith("pg_", StringComparison.Ordinal) == true)
        {
            failures.Add($"Schema '{options.Schema}' is invalid: the prefix pg_ is reserved for system schemas.");
        }

        if (options.TableName is null)
        {
            failures.Add("TableName is required: the existing table to read.");
        }
        else
        {
            CheckName(options.TableName, "TableName", failures);
        }

        CheckName(options.KeyColumn, "KeyColumn", failures);
        if (options.ScanPageSize is < 1 or > PostgreSqlDocumentStoreOptionsValidator.MaxScanPageSize)
        {
            failures.Add(
                $"ScanPageSize must be between 1 and {PostgreSqlDocumentStoreOptionsValidator.MaxScanPageSize}, "
                    + $"not {options.ScanPageSize}."
            );
        }

        if (failures.Count > before)
        {
            return null;
        }

        var table = DocumentTableName.Of(options.Schema!, options.TableName!);
        var members = ConventionMembers(options, failures);
        PropertyInfo? keyMember = members.FirstOrDefault(m => m.Column == options.KeyColumn).Property;
        PostgreSqlKeyType? keyType =
            options.KeyType ?? (keyMember is null ? null : TableKey.TypeOf(keyMember.PropertyType));
        if (keyType is { } undefined && !Enum.IsDefined(undefined))
        {
            failures.Add($"KeyType {(int)undefined} is not a PostgreSqlKeyType (Text, Integer, BigInt or Uuid).");
            return null;
        }

        if (keyType is null)
        {
            failures.Add(
                keyMember is null
                    ? $"KeyType is required: no property maps to the key column '{options.KeyColumn}'."
                    : $"KeyType is required: the key property {keyMember.Name} is of type "
                        + $"{keyMember.PropertyType.Name}, not string, int, long or Guid."
            );
            return null;
        }

        TableKey key = TableKey.For(keyType.Value, $"{table.Qualified}.\"{options.KeyColumn}\"");
        if (keyMember is not null && keyMember.PropertyType != typeof(string) && keyMember.PropertyType != key.ClrType)
        {
            failures.Add(
                $"the key property {keyMember.Name} is of type {keyMember.PropertyType.Name}: KeyType {key.Type} "
                    + $"needs a property of type {key.ClrType.Name} or String."
            );
        }

        var columns = members.Where(m => m.Column != options.KeyColumn).ToList();
        if (options.RowMapping is { } rows)
        {
            CheckRowColumns(rows.Columns, options.KeyColumn, failures);
            return failures.Count > before
                ? null
                : new TableMapping<TOld>(
                    table,
                    options.KeyColumn,
                    key,
                    [.. rows.Columns.Select(c => new TableColumn(c, null, null))],
                    rows.Read,
                    rows.Write,
                    columnArrays: null
                );
        }

        foreach ((PropertyInfo property, string column) in columns)
        {
            if (TableColumnTypes.For(property.PropertyType) is null)
            {
                failures.Add(
                    $"{typeof(TOld).Name}.{property.Name} is of type {property.PropertyType.Name}, "
                        + $"which the convention does not map: Ignore(x => x.{property.Name}) or UseRowMapping."
                );
            }
        }

        CheckDistinct(columns.Select(c => c.Column).Append(options.KeyColumn), failures);
        if (failures.Count > before)
        {
            return null;
        }

        var read = CompileReader(columns, keyMember, key, failures);
        return read is null
            ? null
            : new TableMapping<TOld>(
                table,
                options.KeyColumn,
                key,
                [.. columns.Select(c => new TableColumn(c.Column, c.Property.Name, c.Property.PropertyType))],
                read,
                CompileWriter(columns),
                [.. columns.Select(c => CompileColumnArray(c.Property))]
            );
    }

    private static void CheckName(string? name, string option, List<string> failures)
    {
        if (!PostgreSqlIdentifier.IsValid(name))
        {
            failures.Add($"{option} '{name}' is invalid: it must be {PostgreSqlIdentifier.Rule}.");
        }
    }

    private static void CheckRowColumns(string[] columns, string keyColumn, List<string> failures)
    {
        foreach (string column in columns)
        {
            CheckName(column, "row mapping column", failures);
        }

        if (columns.Contains(keyColumn, StringComparer.Ordinal))
        {
            failures.Add($"the row mapping's columns must not hold the key column '{keyColumn}'.");
        }

        CheckDistinct(columns, failures);
    }

    private static void CheckDistinct(IEnumerable<string> columns, List<string> failures)
    {
        foreach (var twice in columns.GroupBy(c => c, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            failures.Add($"column '{twice.Key}' is mapped more than once.");
        }
    }

    /// <summary>Every public readable property not ignored, with its column (override or snake_case name).</summary>
    private static List<(PropertyInfo Property, string Column)> ConventionMembers(
        PostgreSqlTableStoreOptions<TOld> options,
        List<string> failures
    )
    {
        var members = new List<(PropertyInfo, string)>();
        foreach (PropertyInfo property in typeof(TOld).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetMethod is not { IsPublic: true } || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            if (options.Ignored.Contains(property.Name))
            {
                continue;
            }

            string column = options.Columns.TryGetValue(property.Name, out string? mapped)
                ? mapped
                : JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);
            if (!PostgreSqlIdentifier.IsValid(column))
            {
                failures.Add(
                    $"column '{column}' of {typeof(TOld).Name}.{property.Name} is invalid: it must be "
                        + $"{PostgreSqlIdentifier.Rule}."
                );
                continue;
            }

            members.Add((property, column));
        }

        return members;
    }

    /// <summary>
    /// Compiles <c>(reader, id) =&gt; new TOld(args) { P = reader.GetFieldValue&lt;T&gt;(i), ... }</c>: columns at
    /// their ordinals, the key property from the id (a string) or the key at ordinal n.
    /// </summary>
    private static Func<NpgsqlDataReader, string, TOld>? CompileReader(
        List<(PropertyInfo Property, string Column)> columns,
        PropertyInfo? keyMember,
        TableKey key,
        List<string> failures
    )
    {
        ParameterExpression reader = Expression.Parameter(typeof(NpgsqlDataReader), "reader");
        ParameterExpression id = Expression.Parameter(typeof(string), "id");
        var values = new Dictionary<PropertyInfo, Expression>();
        for (int i = 0; i < columns.Count; i++)
        {
            values[columns[i].Property] = ReadValue(reader, i, columns[i].Property.PropertyType);
        }

        if (keyMember is not null)
        {
            values[keyMember] =
                keyMember.PropertyType == typeof(string) ? id : ReadValue(reader, columns.Count, key.ClrType);
        }

        ConstructorInfo? constructor = Constructor(out ParameterInfo[] parameters);
        if (constructor is null)
        {
            failures.Add(
                $"{typeof(TOld).Name} has neither a public parameterless constructor nor a public constructor whose "
                    + "parameters match its properties by name."
            );
            return null;
        }

        var arguments = new List<Expression>();
        var assigned = new HashSet<PropertyInfo>();
        foreach (ParameterInfo parameter in parameters)
        {
            var match = values.FirstOrDefault(v =>
                string.Equals(v.Key.Name, parameter.Name, StringComparison.OrdinalIgnoreCase)
                && v.Key.PropertyType == parameter.ParameterType
            );
            arguments.Add(match.Key is null ? Expression.Default(parameter.ParameterType) : match.Value);
            if (match.Key is not null)
            {
                assigned.Add(match.Key);
            }
        }

        var bindings = new List<MemberBinding>();
        foreach (var (property, value) in values.Where(v => !assigned.Contains(v.Key)))
        {
            if (property.SetMethod is not { IsPublic: true })
            {
                failures.Add(
                    $"{typeof(TOld).Name}.{property.Name} has no public setter and no constructor parameter: "
                        + $"Ignore(x => x.{property.Name}) or add one."
                );
                continue;
            }

            bindings.Add(Expression.Bind(property, value));
        }

        if (bindings.Count + assigned.Count < values.Count)
        {
            return null;
        }

        return Expression
            .Lambda<Func<NpgsqlDataReader, string, TOld>>(
                Expression.MemberInit(Expression.New(constructor, arguments), bindings),
                reader,
                id
            )
            .Compile();
    }

    /// <summary>
    /// The public parameterless constructor, else the public constructor with the most parameters that all match a
    /// property by name and type (a record's primary constructor).
    /// </summary>
    private static ConstructorInfo? Constructor(out ParameterInfo[] parameters)
    {
        PropertyInfo[] properties = typeof(TOld).GetProperties(BindingFlags.Public | BindingFlags.Instance);
        var best = typeof(TOld)
            .GetConstructors()
            .Select(c => (Constructor: c, Parameters: c.GetParameters()))
            .Where(c =>
                c.Parameters.All(p =>
                    properties.Any(property =>
                        string.Equals(property.Name, p.Name, StringComparison.OrdinalIgnoreCase)
                        && property.PropertyType == p.ParameterType
                    )
                )
            )
            .OrderBy(c => c.Parameters.Length == 0 ? 0 : 1)
            .ThenByDescending(c => c.Parameters.Length)
            .FirstOrDefault();
        parameters = best.Parameters ?? [];
        return best.Constructor;
    }

    private static Expression ReadValue(ParameterExpression reader, int ordinal, Type type)
    {
        Type stored = TableColumnTypes.Stored(type);
        Type? nullableOf = Nullable.GetUnderlyingType(stored);
        Expression value = Expression.Call(
            reader,
            GetFieldValue.MakeGenericMethod(nullableOf ?? stored),
            Expression.Constant(ordinal)
        );
        Type valueType = Nullable.GetUnderlyingType(type) ?? type;
        if (value.Type != valueType)
        {
            value = Expression.Convert(value, valueType);
        }

        if (valueType != type)
        {
            value = Expression.Convert(value, type);
        }

        return type.IsValueType && nullableOf is null
            ? value
            : Expression.Condition(
                Expression.Call(reader, IsDBNull, Expression.Constant(ordinal)),
                Expression.Default(type),
                value
            );
    }

    /// <summary>
    /// Compiles <c>(entity, parameters) =&gt; { parameters.Add(new NpgsqlParameter&lt;T&gt; { TypedValue = entity.P });
    /// ... }</c>, an enum as its underlying integer.
    /// </summary>
    private static Action<TOld, NpgsqlParameterCollection> CompileWriter(
        List<(PropertyInfo Property, string Column)> columns
    )
    {
        ParameterExpression entity = Expression.Parameter(typeof(TOld), "entity");
        ParameterExpression parameters = Expression.Parameter(typeof(NpgsqlParameterCollection), "parameters");
        var adds = new List<Expression>(columns.Count + 1);
        foreach ((PropertyInfo property, _) in columns)
        {
            Type stored = TableColumnTypes.Stored(property.PropertyType);
            Type parameterType = typeof(NpgsqlParameter<>).MakeGenericType(stored);
            Expression value = Expression.Property(entity, property);
            if (value.Type != stored)
            {
                value = Expression.Convert(value, stored);
            }

            adds.Add(
                Expression.Call(
                    parameters,
                    AddParameter,
                    Expression.MemberInit(
                        Expression.New(parameterType),
                        Expression.Bind(parameterType.GetProperty(nameof(NpgsqlParameter<int>.TypedValue))!, value)
                    )
                )
            );
        }

        adds.Add(Expression.Empty());
        return Expression
            .Lambda<Action<TOld, NpgsqlParameterCollection>>(Expression.Block(adds), entity, parameters)
            .Compile();
    }

    /// <summary>Makes <see cref="ColumnArray{T}"/> for the stored type of a property.</summary>
    private static Func<IReadOnlyList<TOld>, NpgsqlParameter> CompileColumnArray(PropertyInfo property) =>
        (Func<IReadOnlyList<TOld>, NpgsqlParameter>)
            typeof(TableMapping<TOld>)
                .GetMethod(nameof(ColumnArray), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(TableColumnTypes.Stored(property.PropertyType))
                .Invoke(null, [property])!;

    /// <summary>
    /// Compiles <c>entity =&gt; (T)entity.P</c> once and returns what reads it off many entities into one
    /// <c>NpgsqlParameter&lt;T[]&gt;</c>: the same values, of the same type, as <see cref="CompileWriter"/> writes
    /// one at a time.
    /// </summary>
    private static Func<IReadOnlyList<TOld>, NpgsqlParameter> ColumnArray<T>(PropertyInfo property)
    {
        ParameterExpression entity = Expression.Parameter(typeof(TOld), "entity");
        Expression value = Expression.Property(entity, property);
        if (value.Type != typeof(T))
        {
            value = Expression.Convert(value, typeof(T));
        }

        Func<TOld, T> read = Expression.Lambda<Func<TOld, T>>(value, entity).Compile();
        return entities =>
        {
            var values = new T[entities.Count];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = read(entities[i]);
            }

            return new NpgsqlParameter<T[]> { TypedValue = values };
        };
    }
}

/// <summary>A column of the mapping: its name, and for the convention the property and its type.</summary>
internal sealed record TableColumn(string Name, string? Property, Type? Type);
