using System.Globalization;
using System.Linq.Expressions;
using System.Numerics;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The one place where an entity id becomes a key of the table's own type and back: ids are accepted only in the
/// canonical form of the key type, so that one row has one id and the scan's cursor compares as the key does.
/// </summary>
internal abstract class TableKey
{
    /// <summary>Gets the key type.</summary>
    public abstract PostgreSqlKeyType Type { get; }

    /// <summary>Gets the CLR type Npgsql reads and writes the key as.</summary>
    public abstract Type ClrType { get; }

    /// <summary>Gets the PostgreSQL type names (<c>pg_type.typname</c>) a key column of this type may have.</summary>
    public abstract IReadOnlyList<string> ColumnTypes { get; }

    /// <summary>Gets the SQL type of a key parameter, for a cast where the statement gives it no other type.</summary>
    public string ParameterType => ColumnTypes[0];

    /// <summary>Gets whether a sequence can hand out keys of this type.</summary>
    public bool IsInteger => Type is PostgreSqlKeyType.Integer or PostgreSqlKeyType.BigInt;

    public static TableKey For(PostgreSqlKeyType type, string table) =>
        type switch
        {
            PostgreSqlKeyType.Text => new TextKey(table),
            PostgreSqlKeyType.Integer => new IntegerKey(table),
            PostgreSqlKeyType.BigInt => new BigIntKey(table),
            PostgreSqlKeyType.Uuid => new UuidKey(table),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown PostgreSQL key type."),
        };

    /// <summary>The key type of a CLR type, or null when none has it.</summary>
    public static PostgreSqlKeyType? TypeOf(Type clrType) =>
        clrType == typeof(string) ? PostgreSqlKeyType.Text
        : clrType == typeof(int) ? PostgreSqlKeyType.Integer
        : clrType == typeof(long) ? PostgreSqlKeyType.BigInt
        : clrType == typeof(Guid) ? PostgreSqlKeyType.Uuid
        : null;

    /// <exception cref="InvalidEntityIdException">The id is not a key of this type in its canonical form.</exception>
    public abstract void Validate(string id);

    /// <summary>The key of an id as a parameter of the key's own type.</summary>
    /// <exception cref="InvalidEntityIdException">The id is not a key of this type in its canonical form.</exception>
    public abstract NpgsqlParameter Parameter(string id);

    /// <summary>The keys of ids as one array parameter of the key's own array type.</summary>
    /// <exception cref="InvalidEntityIdException">An id is not a key of this type in its canonical form.</exception>
    public abstract NpgsqlParameter Array(IReadOnlyCollection<string> ids);

    /// <summary>The id, among distinct valid <paramref name="ids"/>, whose key is the largest in the key's own
    /// order.</summary>
    public abstract string Largest(IReadOnlyList<string> ids);

    /// <summary>
    /// The key of an id as a parameter of the key's own type, or a null value when the id is not a key of this type in
    /// its canonical form (so no row can be its, and nothing is thrown).
    /// </summary>
    public abstract NpgsqlParameter ParameterOrNull(string id);

    /// <summary>The keys of ids as <see cref="ParameterOrNull"/> makes each, in one array of the key's type.</summary>
    public abstract NpgsqlParameter ArrayOrNulls(string[] ids);

    /// <summary>Reads the key at <paramref name="ordinal"/> of the current row as its canonical id.</summary>
    public abstract string Read(NpgsqlDataReader reader, int ordinal);

    /// <summary>
    /// The expression that formats <paramref name="key"/>, a value of <see cref="ClrType"/>, as its canonical id, for a
    /// compiled row reader that reads the key column once.
    /// </summary>
    public abstract Expression FormatExpression(Expression key);

    /// <summary>The canonical id of a key value read as <see cref="ClrType"/> (a sequence value, say).</summary>
    public abstract string Format(long value);

    private abstract class Typed<T>(string table) : TableKey
        where T : notnull
    {
        public override Type ClrType => typeof(T);

        protected string Table { get; } = table;

        public override void Validate(string id) => Parse(id);

        public override NpgsqlParameter Parameter(string id) => new NpgsqlParameter<T> { TypedValue = Parse(id) };

        public override NpgsqlParameter Array(IReadOnlyCollection<string> ids)
        {
            var keys = new T[ids.Count];
            int i = 0;
            foreach (string id in ids)
            {
                keys[i++] = Parse(id);
            }

            return new NpgsqlParameter<T[]> { TypedValue = keys };
        }

        public override string Largest(IReadOnlyList<string> ids)
        {
            string largest = ids[0];
            T max = Parse(largest);
            for (int i = 1; i < ids.Count; i++)
            {
                T key = Parse(ids[i]);
                if (Comparer<T>.Default.Compare(key, max) > 0)
                {
                    (largest, max) = (ids[i], key);
                }
            }

            return largest;
        }

        public override string Read(NpgsqlDataReader reader, int ordinal) =>
            FormatKey(reader.GetFieldValue<T>(ordinal));

        public override Expression FormatExpression(Expression key) =>
            Expression.Call(Expression.Constant(this), typeof(Typed<T>).GetMethod(nameof(Formatted))!, key);

        /// <summary>The canonical id of <paramref name="key"/>; public, for the compiled reader to call.</summary>
        public string Formatted(T key) => FormatKey(key);

        public override string Format(long value) =>
            throw new InvalidOperationException($"{Table} has a {Type} key, which no sequence hands out.");

        protected abstract bool TryParse(string id, out T key);

        /// <summary>Whether <paramref name="id"/> is a key of this type in its canonical form.</summary>
        protected bool IsKey(string id, out T key)
        {
            ArgumentNullException.ThrowIfNull(id);
            return TryParse(id, out key);
        }

        protected abstract string FormatKey(T key);

        protected abstract string Form { get; }

        private T Parse(string id)
        {
            return IsKey(id, out T key)
                ? key
                : throw new InvalidEntityIdException(id, $"the key of {Table} is {Form}.");
        }
    }

    private sealed class TextKey(string table) : Typed<string>(table)
    {
        public override PostgreSqlKeyType Type => PostgreSqlKeyType.Text;

        public override IReadOnlyList<string> ColumnTypes { get; } = ["text", "varchar"];

        protected override string Form => "text";

        protected override bool TryParse(string id, out string key)
        {
            // The core's rules (no NUL, no lone surrogate) throw their own, more precise, error.
            PostgreSqlEntityIds.Validate(id);
            key = id;
            return true;
        }

        protected override string FormatKey(string key) => key;

        // Every id is a text key (one the core's rules refuse throws, as the new store's own check would first).
        public override NpgsqlParameter ParameterOrNull(string id) => Parameter(id);

        public override NpgsqlParameter ArrayOrNulls(string[] ids) => Array(ids);
    }

    /// <summary>A key of a value type, whose absent keys are null values of <c>T?</c>.</summary>
    private abstract class ValueKey<T>(string table) : Typed<T>(table)
        where T : struct
    {
        public override NpgsqlParameter ParameterOrNull(string id) =>
            new NpgsqlParameter<T?> { TypedValue = IsKey(id, out T key) ? key : null };

        public override NpgsqlParameter ArrayOrNulls(string[] ids)
        {
            var keys = new T?[ids.Length];
            for (int i = 0; i < ids.Length; i++)
            {
                keys[i] = IsKey(ids[i], out T key) ? key : null;
            }

            return new NpgsqlParameter<T?[]> { TypedValue = keys };
        }
    }

    private abstract class IntegerKeyBase<T>(string table) : ValueKey<T>(table)
        where T : struct, IBinaryInteger<T>
    {
        protected override bool TryParse(string id, out T key)
        {
            // Canonical means the id is what formatting its value gives back: "05", "+5", " 5", "-0" and "5.0" are
            // refused, so that one row never answers to two ids.
            Span<char> canonical = stackalloc char[24];
            return T.TryParse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out key)
                && key.TryFormat(canonical, out int written, default, CultureInfo.InvariantCulture)
                && canonical[..written].SequenceEqual(id);
        }

        protected override string FormatKey(T key) => key.ToString(null, CultureInfo.InvariantCulture);

        public override string Format(long value) => FormatKey(T.CreateChecked(value));
    }

    private sealed class IntegerKey(string table) : IntegerKeyBase<int>(table)
    {
        public override PostgreSqlKeyType Type => PostgreSqlKeyType.Integer;

        public override IReadOnlyList<string> ColumnTypes { get; } = ["int4"];

        protected override string Form =>
            "integer: an id must be a whole number from -2147483648 to 2147483647 in canonical form "
            + "(no '+', no leading zeros, no spaces)";
    }

    private sealed class BigIntKey(string table) : IntegerKeyBase<long>(table)
    {
        public override PostgreSqlKeyType Type => PostgreSqlKeyType.BigInt;

        public override IReadOnlyList<string> ColumnTypes { get; } = ["int8"];

        protected override string Form =>
            "bigint: an id must be a whole number within 64 bits in canonical form "
            + "(no '+', no leading zeros, no spaces)";
    }

    private sealed class UuidKey(string table) : ValueKey<Guid>(table)
    {
        public override PostgreSqlKeyType Type => PostgreSqlKeyType.Uuid;

        public override IReadOnlyList<string> ColumnTypes { get; } = ["uuid"];

        protected override string Form =>
            "uuid: an id must be a UUID in lower-case hyphenated form (0f8fad5b-d9cb-469f-a165-70867728950e)";

        // "D" alone trims spaces and takes "0x" or a sign inside a group; the id must be what formatting gives back,
        // as for the integer keys, so that one row never answers to two ids.
        protected override bool TryParse(string id, out Guid key) =>
            Guid.TryParseExact(id, "D", out key) && string.Equals(key.ToString("D"), id, StringComparison.Ordinal);

        protected override string FormatKey(Guid key) => key.ToString("D");
    }
}
