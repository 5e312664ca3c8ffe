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

    /// <exception cref="UnstorableEntityException">A string in the entity, or a property name, holds a NUL
    /// character, which <c>jsonb</c> cannot hold: thrown before anything is sent.</exception>
    public byte[] Serialize(string id, T entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        byte[] payload = JsonSerializer.SerializeToUtf8Bytes(entity, _typeInfo);
        if (HoldsEscapedNul(payload))
        {
            throw new UnstorableEntityException(
                id,
                $"a string in it holds a NUL character (U+0000), which PostgreSQL's jsonb cannot hold (table {_table})."
            );
        }

        return payload;
    }

    /// <summary>
    /// Whether the JSON holds the escape <c>\u0000</c>, the only way System.Text.Json writes a NUL: one vectorized
    /// search, which allocates nothing. A match preceded by a backslash may be an escaped backslash followed by the
    /// text <c>u0000</c>, so only an odd run of backslashes before <c>u0000</c> is the escape.
    /// </summary>
    internal static bool HoldsEscapedNul(ReadOnlySpan<byte> json)
    {
        int from = 0;
        while (true)
        {
            int found = json[from..].IndexOf("\\u0000"u8);
            if (found < 0)
            {
                return false;
            }

            int at = from + found;
            int backslashes = 1;
            while (at - backslashes >= 0 && json[at - backslashes] == (byte)'\\')
            {
                backslashes++;
            }

            if (backslashes % 2 == 1)
            {
                return true;
            }

            from = at + 1;
        }
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
