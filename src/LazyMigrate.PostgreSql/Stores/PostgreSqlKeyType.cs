namespace LazyMigrate.PostgreSql;

/// <summary>
/// The PostgreSQL type of the key column of a table read by <see cref="PostgreSqlTableOldStore{TOld}"/>: it decides the
/// canonical form of an entity id and the order of a scan.
/// </summary>
public enum PostgreSqlKeyType
{
    /// <summary>
    /// <c>text</c> or <c>varchar</c> (not <c>char(n)</c> or <c>citext</c>, whose comparison with a text key casts the
    /// column): any id PostgreSQL text can hold, scanned in the column's collation.
    /// </summary>
    Text,

    /// <summary>
    /// <c>integer</c> (<c>serial</c>): ids such as <c>"5"</c> or <c>"-5"</c> (no sign <c>+</c>, no leading zeros, no
    /// spaces), scanned in numeric order.
    /// </summary>
    Integer,

    /// <summary><c>bigint</c> (<c>bigserial</c>): ids as for <see cref="Integer"/>, within 64 bits.</summary>
    BigInt,

    /// <summary>
    /// <c>uuid</c>: ids in the lower-case hyphenated form (<c>"0f8fad5b-d9cb-469f-a165-70867728950e"</c>), scanned in
    /// PostgreSQL's byte order, which is the ordinal order of that form.
    /// </summary>
    Uuid,
}
