using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The delegates of <see cref="PostgreSqlTableStoreOptions{TOld}.UseRowMapping"/> and the columns they own.
/// </summary>
internal sealed record TableRowMapping<TOld>(
    string[] Columns,
    Func<NpgsqlDataReader, string, TOld> Read,
    Action<TOld, NpgsqlParameterCollection> Write
)
    where TOld : class;
