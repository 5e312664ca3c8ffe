namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Which CLR member types the convention mapping reads and writes, and the PostgreSQL column types
/// (<c>pg_type.typname</c>, of the base type for a domain) each is compatible with. An enum is stored as its underlying
/// integer; a nullable value type as its value type.
/// </summary>
internal static class TableColumnTypes
{
    private static readonly Dictionary<Type, string[]> Compatible = new()
    {
        [typeof(string)] = ["text", "varchar", "bpchar", "citext"],
        [typeof(short)] = ["int2"],
        [typeof(int)] = ["int4"],
        [typeof(long)] = ["int8"],
        [typeof(Guid)] = ["uuid"],
        [typeof(bool)] = ["bool"],
        [typeof(decimal)] = ["numeric"],
        [typeof(double)] = ["float8"],
        [typeof(float)] = ["float4"],
        [typeof(DateTime)] = ["timestamptz", "timestamp"],
        [typeof(DateTimeOffset)] = ["timestamptz"],
        [typeof(DateOnly)] = ["date"],
        [typeof(TimeOnly)] = ["time"],
        [typeof(byte[])] = ["bytea"],
    };

    /// <summary>The type Npgsql reads and writes for a member type: an enum's underlying type, nullable kept.</summary>
    public static Type Stored(Type memberType)
    {
        Type? nullableOf = Nullable.GetUnderlyingType(memberType);
        Type value = nullableOf ?? memberType;
        if (!value.IsEnum)
        {
            return memberType;
        }

        Type underlying = Enum.GetUnderlyingType(value);
        return nullableOf is null ? underlying : typeof(Nullable<>).MakeGenericType(underlying);
    }

    /// <summary>The compatible column types of a member type, or null when the convention cannot map it.</summary>
    public static IReadOnlyList<string>? For(Type memberType)
    {
        Type stored = Stored(memberType);
        return Compatible.GetValueOrDefault(Nullable.GetUnderlyingType(stored) ?? stored);
    }
}
