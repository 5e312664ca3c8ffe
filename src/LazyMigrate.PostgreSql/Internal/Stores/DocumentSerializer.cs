using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Turns entities into UTF-8 <c>jsonb</c> payloads and back, naming the entity when a payload is corrupt.
/// </summary>
internal sealed class DocumentSerializer<T>
    where T : class
{
    private readonly JsonTypeInfo<T> _typeInfo;
    private readonly string _table;

    public DocumentSerializer(JsonSerializerOptions options, DocumentTableName table)
    {
        // Options without a resolver get the reflection-based one, as JsonSerializer would give them; resolving the
        // type info once spares every call the lookup. Both make the options read-only.
        options.MakeReadOnly(populateMissingResolver: true);
        _typeInfo = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        _table = table.Qualified;
    }

    public byte[] Serialize(T entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return JsonSerializer.SerializeToUtf8Bytes(entity, _typeInfo);
    }

    /// <exception cref="CorruptPayloadException">The payload is not JSON of <typeparamref name="T"/>, or is JSON
    /// null.</exception>
    public T Deserialize(string id, byte[] payload)
    {
        T? entity;
        try
        {
            entity = JsonSerializer.Deserialize(payload, _typeInfo);
        }
        catch (JsonException exception)
        {
            throw new CorruptPayloadException(
                id,
                _table,
                $"it does not deserialize to {typeof(T).Name}: {exception.Message}",
                exception
            );
        }

        return entity ?? throw new CorruptPayloadException(id, _table, $"it is JSON null, not a {typeof(T).Name}.");
    }

    /// <exception cref="CorruptPayloadException">Always: a live row without a payload.</exception>
    public T MissingPayload(string id) =>
        throw new CorruptPayloadException(id, _table, "the row is not a tombstone but its payload is NULL.");
}
