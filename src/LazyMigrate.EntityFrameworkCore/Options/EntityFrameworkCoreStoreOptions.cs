namespace LazyMigrate.EntityFrameworkCore;

/// <summary>Options of an Entity Framework Core store (old or new).</summary>
/// <typeparam name="TKey">The CLR type of the entity's primary key.</typeparam>
public sealed class EntityFrameworkCoreStoreOptions<TKey>
    where TKey : notnull
{
    /// <summary>
    /// Gets or sets the conversion of an entity id to a key. It may throw for an id it cannot convert.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: the identity for <see cref="string"/> keys, and
    /// <c>TKey.Parse(id, CultureInfo.InvariantCulture)</c> for keys that implement <see cref="IParsable{TSelf}"/> and
    /// <see cref="IFormattable"/> (<see cref="int"/>, <see cref="long"/>, <see cref="Guid"/>, ...). Other key types
    /// need both <see cref="ParseId"/> and <see cref="FormatKey"/>. </value>
    /// <remarks>
    /// Whatever the conversion, an id must be the canonical form of its key (<c>FormatKey(ParseId(id)) == id</c>), so
    /// that one entity never has two ids: "+42" or " 42" are rejected for an <see cref="int"/> key, with an
    /// <see cref="InvalidEntityIdException"/> as for an id that does not convert at all.
    /// </remarks>
    public Func<string, TKey>? ParseId { get; set; }

    /// <summary>Gets or sets the conversion of a key to its entity id.</summary>
    /// <value>
    /// The default value is <see langword="null"/>: the identity for <see cref="string"/> keys, and
    /// <c>key.ToString(null, CultureInfo.InvariantCulture)</c> for keys that implement <see cref="IFormattable"/>.
    /// </value>
    public Func<TKey, string>? FormatKey { get; set; }

    /// <summary>
    /// Gets or sets the name under which a new store keeps its ids in the <see cref="LazyMigrateEntry"/> table.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: the CLR name of the entity type, without its namespace. Set it
    /// when two entity types of the same name share one entries table, and never change it once entries exist.
    /// At most <see cref="LazyMigrateEntry.MaxEntityTypeLength"/> characters.
    /// </value>
    public string? EntityTypeName { get; set; }

    /// <summary>Gets or sets how many entities an old-store scan reads per query (keyset pagination).</summary>
    /// <value>The default value is 1000. Between 1 and 100,000.</value>
    public int ScanPageSize { get; set; } = 1000;

    /// <summary>
    /// Gets or sets how many times a save or a delete is attempted when a concurrent write of the same id took the
    /// id's entry row between its two statements (each lost attempt means another write of that id completed).
    /// </summary>
    /// <value>The default value is 5. Between 1 and 100.</value>
    public int MaxWriteAttempts { get; set; } = 5;

    /// <summary>
    /// Gets or sets whether the host checks the store when it starts (registered through
    /// <c>UseEntityFrameworkCoreOldStore</c> or <c>UseEntityFrameworkCoreNewStore</c>): the database opens and the
    /// store's tables answer a query (the entity's table, and a new store's <see cref="LazyMigrateEntry"/> table). A
    /// failed check fails <c>host.StartAsync()</c> with an <see cref="InvalidOperationException"/> naming the
    /// migration, the store and the cause. Without a host (a provider built by hand) nothing runs the check. Turn it
    /// off where the database may be down when the service starts.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool CheckOnStart { get; set; } = true;
}
