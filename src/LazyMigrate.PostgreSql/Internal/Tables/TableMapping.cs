using System.Data;
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

    private readonly Func<NpgsqlDataReader, KeyValuePair<string, TOld>> _readKeyed;

    private TableMapping(
        DocumentTableName table,
        string keyColumn,
        TableKey key,
        IReadOnlyList<TableColumn> columns,
        Func<NpgsqlDataReader, string, TOld> read,
        Func<NpgsqlDataReader, KeyValuePair<string, TOld>>? readKeyed,
        Action<TOld, NpgsqlParameterCollection> write,
        Func<IReadOnlyList<TOld>, NpgsqlParameter>[]? columnArrays
    )
    {
        Table = table;
        KeyColumn = keyColumn;
        Key = key;
        Columns = columns;
        Read = read;
        _readKeyed = readKeyed ?? (reader => ReadKeyAndEntity(reader, read));

        // The compiled readers read each column once, in ordinal order, which is all sequential access allows; a row
        // mapping's own delegate may read in any order.
        RowAccess = readKeyed is null ? CommandBehavior.Default : CommandBehavior.SequentialAccess;
        Write = write;
        ColumnArrays = columnArrays;
    }

    public DocumentTableName Table { get; }

    /// <summary>Gets the key column's name, unquoted.</summary>
    public string KeyColumn { get; }

    public TableKey Key { get; }

    /// <summary>Gets the columns the mapping reads and writes, the key excluded, in ordinal order.</summary>
    public IReadOnlyList<TableColumn> Columns { get; }

    /// <summary>
    /// Gets how a query's rows may be read for <see cref="ReadEntity"/> and <see cref="ReadRow"/>: sequentially when
    /// they read each column once and in order, which spares Npgsql keeping every column of the row addressable (on
    /// a scan of small rows, about a twentieth of its time); otherwise by default.
    /// </summary>
    public CommandBehavior RowAccess { get; }

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
            throw Corrupt(id, exception);
        }
    }

    /// <summary>
    /// Reads the current row's id and entity, each column once and in ordinal order: a reader that goes back to an
    /// earlier column, or reads one twice, makes Npgsql seek within the row again, which the scan pays on every row.
    /// </summary>
    /// <exception cref="CorruptPayloadException">A column does not read as its property.</exception>
    public KeyValuePair<string, TOld> ReadRow(NpgsqlDataReader reader)
    {
        try
        {
            return _readKeyed(reader);
        }
        catch (InvalidCastException exception)
        {
            throw Corrupt(Key.Read(reader, Columns.Count), exception);
        }
    }

    // A row mapping's reader takes the id, so the key is read first: the order its own delegate was written for.
    private KeyValuePair<string, TOld> ReadKeyAndEntity(
        NpgsqlDataReader reader,
        Func<NpgsqlDataReader, string, TOld> read
    )
    {
        string id = Key.Read(reader, Columns.Count);
        return new(id, read(reader, id));
    }

    private CorruptPayloadException Corrupt(string id, InvalidCastException exception) =>
        new(
            id,
            Table.Qualified,
            $"a column does not read as its {typeof(TOld).Name} property: {exception.Message}",
            exception
        );

    /// <summary>Adds one parameter per column, in order.</summary>
    public Action<TOld, NpgsqlParameterCollection> Write { get; }

    /// <summary>
    /// Throws when a string the row's parameters (the key first, then one per column) would send holds a NUL, which
    /// PostgreSQL's text types cannot hold (22021): before anything is sent. Only string parameters are read, so the
    /// others are not boxed.
    /// </summary>
    /// <exception cref="UnstorableEntityException">A column's string holds a NUL character.</exception>
    public void ThrowIfUnstorable(string id, NpgsqlParameterCollection parameters)
    {
        for (int i = 1; i < parameters.Count; i++)
        {
            string? text = parameters[i] switch
            {
                NpgsqlParameter<string> typed => typed.TypedValue,
                { } untyped when untyped.GetType() == typeof(NpgsqlParameter) => untyped.Value as string,
                _ => null,
            };
            ThrowIfNul(id, text, i - 1);
        }
    }

    /// <summary>
    /// Throws when a string of a column's values, one per id of a batch, holds a NUL: before anything is sent.
    /// </summary>
    /// <exception cref="UnstorableEntityException">A string holds a NUL character: the first such entity.</exception>
    public void ThrowIfUnstorable(string[] ids, int column, NpgsqlParameter values)
    {
        if (values is NpgsqlParameter<string?[]> { TypedValue: { } texts })
        {
            for (int i = 0; i < texts.Length; i++)
            {
                ThrowIfNul(ids[i], texts[i], column);
            }
        }
    }

    private void ThrowIfNul(string id, string? text, int column)
    {
        if (text is not null && text.Contains('\0', StringComparison.Ordinal))
        {
            throw new UnstorableEntityException(
                id,
                $"the string for column \"{Columns[column].Name}\" of {Table.Qualified} holds a NUL character "
                    + "(U+0000), which PostgreSQL's text cannot hold."
            );
        }
    }

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
                    readKeyed: null,
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

        if (CompileReaders(columns, keyMember, key, failures) is not { } readers)
        {
            return null;
        }

        return new TableMapping<TOld>(
            table,
            options.KeyColumn,
            key,
            [.. columns.Select(c => new TableColumn(c.Column, c.Property.Name, c.Property.PropertyType))],
            readers.Read,
            readers.ReadKeyed,
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
    /// Compiles the two readers of a row, columns at their ordinals 0 to n - 1 and the key at n, each column read once
    /// and in ordinal order into a local before <c>new TOld(args) { P = local, ... }</c>: <c>(reader, id)</c>, where
    /// the id is known (a key property of type string takes it), and <c>reader =&gt; (id, entity)</c>, which also reads
    /// the key and formats the id.
    /// </summary>
    private static (
        Func<NpgsqlDataReader, string, TOld> Read,
        Func<NpgsqlDataReader, KeyValuePair<string, TOld>> ReadKeyed
    )? CompileReaders(
        List<(PropertyInfo Property, string Column)> columns,
        PropertyInfo? keyMember,
        TableKey key,
        List<string> failures
    )
    {
        if (Construction(columns, keyMember, failures) is not { } construct)
        {
            return null;
        }

        ParameterExpression reader = Expression.Parameter(typeof(NpgsqlDataReader), "reader");
        ParameterExpression[] locals = [.. columns.Select(c => Expression.Variable(c.Property.PropertyType))];
        Expression[] readColumns =
        [
            .. columns.Select((c, i) => Expression.Assign(locals[i], ReadValue(reader, i, c.Property.PropertyType))),
        ];
        ParameterExpression keyValue = Expression.Variable(key.ClrType, "key");
        Expression readKey = Expression.Assign(
            keyValue,
            Expression.Call(reader, GetFieldValue.MakeGenericMethod(key.ClrType), Expression.Constant(columns.Count))
        );

        // (reader, id): the key column is read only for a key property of the key's own type.
        ParameterExpression id = Expression.Parameter(typeof(string), "id");
        bool readsKey = keyMember is not null && keyMember.PropertyType != typeof(string);
        Expression entity = construct(locals, readsKey ? keyValue : id);
        var read = Expression
            .Lambda<Func<NpgsqlDataReader, string, TOld>>(
                Expression.Block(
                    readsKey ? [.. locals, keyValue] : locals,
                    readsKey ? [.. readColumns, readKey, entity] : [.. readColumns, entity]
                ),
                reader,
                id
            )
            .Compile();

        // reader => (id, entity): the key is read last, once, and formatted.
        ParameterExpression formatted = Expression.Variable(typeof(string), "id");
        Expression keyed = Expression.New(
            typeof(KeyValuePair<string, TOld>).GetConstructor([typeof(string), typeof(TOld)])!,
            formatted,
            construct(locals, keyMember?.PropertyType == typeof(string) ? formatted : keyValue)
        );
        var readKeyed = Expression
            .Lambda<Func<NpgsqlDataReader, KeyValuePair<string, TOld>>>(
                Expression.Block(
                    [.. locals, keyValue, formatted],
                    [.. readColumns, readKey, Expression.Assign(formatted, key.FormatExpression(keyValue)), keyed]
                ),
                reader
            )
            .Compile();
        return (read, readKeyed);
    }

    /// <summary>
    /// How a <typeparamref name="TOld"/> is built from the columns' values (in the order of <paramref name="columns"/>)
    /// and the key property's: constructor arguments matched by name, the rest set by public setters. Null, with the
    /// failures added, when the type cannot be built so.
    /// </summary>
    private static Func<IReadOnlyList<Expression>, Expression, Expression>? Construction(
        List<(PropertyInfo Property, string Column)> columns,
        PropertyInfo? keyMember,
        List<string> failures
    )
    {
        ConstructorInfo? constructor = Constructor(out ParameterInfo[] parameters);
        if (constructor is null)
        {
            failures.Add(
                $"{typeof(TOld).Name} has neither a public parameterless constructor nor a public constructor whose "
                    + "parameters match its properties by name."
            );
            return null;
        }

        List<PropertyInfo> properties = [.. columns.Select(c => c.Property)];
        if (keyMember is not null)
        {
            properties.Add(keyMember);
        }

        // Each parameter takes the property of its name and type (or its default); every other property a setter.
        int?[] arguments =
        [
            .. parameters.Select(parameter =>
            {
                int match = properties.FindIndex(p =>
                    string.Equals(p.Name, parameter.Name, StringComparison.OrdinalIgnoreCase)
                    && p.PropertyType == parameter.ParameterType
                );
                return match < 0 ? (int?)null : match;
            }),
        ];
        var assigned = new HashSet<int>(arguments.OfType<int>());
        var setters = new List<int>();
        for (int i = 0; i < properties.Count; i++)
        {
            if (assigned.Contains(i))
            {
                continue;
            }

            if (properties[i].SetMethod is not { IsPublic: true })
            {
                failures.Add(
                    $"{typeof(TOld).Name}.{properties[i].Name} has no public setter and no constructor parameter: "
                        + $"Ignore(x => x.{properties[i].Name}) or add one."
                );
                continue;
            }

            setters.Add(i);
        }

        if (setters.Count + assigned.Count < properties.Count)
        {
            return null;
        }

        return (values, keyValue) =>
        {
            Expression Value(int i) => i < values.Count ? values[i] : keyValue;
            return Expression.MemberInit(
                Expression.New(
                    constructor,
                    parameters.Select(
                        (p, i) => arguments[i] is int at ? Value(at) : Expression.Default(p.ParameterType)
                    )
                ),
                setters.Select(i => Expression.Bind(properties[i], Value(i)))
            );
        };
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
