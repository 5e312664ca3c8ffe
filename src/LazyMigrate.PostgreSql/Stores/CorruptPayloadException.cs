namespace LazyMigrate.PostgreSql;

/// <summary>
/// A stored payload does not deserialize to the entity type; nothing was written. Names the entity and the table.
/// </summary>
/// <remarks>The message never holds the payload itself. The repository passes this exception on unchanged and does not
/// retry it.</remarks>
public sealed class CorruptPayloadException : CorruptEntityException
{
    /// <summary>Initializes a new instance of the <see cref="CorruptPayloadException"/> class.</summary>
    /// <param name="entityId">The id of the entity whose payload is corrupt.</param>
    /// <param name="tableName">The schema-qualified table.</param>
    /// <param name="cause">What is wrong, in a few words.</param>
    /// <param name="innerException">The deserialization failure, if any.</param>
    public CorruptPayloadException(string entityId, string tableName, string cause, Exception? innerException = null)
        : base(
            entityId,
            $"The stored payload of entity '{entityId}' in table {tableName} is corrupt: {cause}",
            innerException
        )
    {
        TableName = tableName;
    }

    /// <summary>Gets the schema-qualified table that holds the corrupt payload.</summary>
    public string TableName { get; }
}
