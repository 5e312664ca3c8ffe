using Microsoft.Extensions.Logging;
using Npgsql;

namespace LazyMigrate.PostgreSql;

/// <summary>
/// A new store in one PostgreSQL table: <c>jsonb</c> payloads through System.Text.Json, tombstones, and
/// insert-if-absent as <c>INSERT ... ON CONFLICT (id) DO NOTHING</c>, atomic in the database.
/// </summary>
/// <typeparam name="TNew">The entity type of the new store.</typeparam>
/// <remarks>Thread-safe. Every call is one round trip on a pooled connection of the data source. See docs/postgresql.md.</remarks>
public sealed class PostgreSqlNewStore<TNew> : INewStore<TNew>
    where TNew : class
{
    private readonly DocumentTable<TNew> _table;

    /// <summary>Initializes a new instance of the <see cref="PostgreSqlNewStore{TNew}"/> class.</summary>
    /// <param name="dataSource">The data source; the store does not dispose it.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">The logger factory, if any.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public PostgreSqlNewStore(NpgsqlDataSource dataSource, PostgreSqlDocumentStoreOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        _table = new DocumentTable<TNew>(dataSource, options, loggerFactory);
    }

    /// <summary>Gets the quoted, schema-qualified table name, for example <c>"public"."customer"</c>.</summary>
    public string TableName => _table.Name.Qualified;

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    /// <exception cref="CorruptPayloadException">The stored payload does not deserialize.</exception>
    public ValueTask<NewStoreRead<TNew>> FindAsync(string id, CancellationToken cancellationToken = default)
    {
        PostgreSqlEntityIds.Validate(id);
        return _table.FindAsync(id, cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate.</exception>
    /// <exception cref="CorruptPayloadException">A stored payload does not deserialize.</exception>
    public ValueTask<IReadOnlyDictionary<string, NewStoreRead<TNew>>> FindManyAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        PostgreSqlEntityIds.ValidateAll(ids);
        return _table.FindManyAsync(ids, cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    public ValueTask<bool> InsertIfAbsentAsync(string id, TNew entity, CancellationToken cancellationToken = default)
    {
        PostgreSqlEntityIds.Validate(id);
        ArgumentNullException.ThrowIfNull(entity);
        return _table.InsertIfAbsentAsync(id, entity, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>One statement: <c>INSERT ... SELECT FROM unnest($1::text[], $2::jsonb[]) ON CONFLICT (id) DO NOTHING RETURNING id</c>.</remarks>
    /// <exception cref="InvalidEntityIdException">An id holds a NUL character or a lone surrogate; nothing was inserted.</exception>
    public ValueTask<IReadOnlyCollection<string>> InsertManyIfAbsentAsync(IReadOnlyCollection<KeyValuePair<string, TNew>> entities, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entities);
        return _table.InsertManyIfAbsentAsync(entities, cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    public ValueTask UpsertAsync(string id, TNew entity, CancellationToken cancellationToken = default)
    {
        PostgreSqlEntityIds.Validate(id);
        ArgumentNullException.ThrowIfNull(entity);
        return _table.UpsertAsync(id, entity, cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidEntityIdException">The id holds a NUL character or a lone surrogate.</exception>
    public ValueTask DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        PostgreSqlEntityIds.Validate(id);
        return _table.TombstoneAsync(id, cancellationToken);
    }
}
