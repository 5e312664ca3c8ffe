namespace LazyMigrate.PostgreSql;

/// <summary>
/// Checks that an entity id can be stored in a PostgreSQL <c>text</c> column: no NUL character (PostgreSQL text
/// cannot hold one) and well-formed UTF-16 (a lone surrogate has no UTF-8 encoding).
/// </summary>
internal static class PostgreSqlEntityIds
{
    /// <exception cref="ArgumentNullException"><paramref name="id"/> is null.</exception>
    /// <exception cref="InvalidEntityIdException">PostgreSQL cannot store the id.</exception>
    public static void Validate(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        ReadOnlySpan<char> span = id.AsSpan();
        if (span.Contains('\0'))
        {
            throw new InvalidEntityIdException(id, "PostgreSQL text cannot hold a NUL character.");
        }

        int surrogate = span.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (surrogate >= 0 && !IsWellFormed(span[surrogate..]))
        {
            throw new InvalidEntityIdException(id, "it holds a lone UTF-16 surrogate, which has no UTF-8 encoding.");
        }
    }

    public static void ValidateAll(IEnumerable<string> ids)
    {
        foreach (string id in ids)
        {
            Validate(id);
        }
    }

    private static bool IsWellFormed(ReadOnlySpan<char> text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }
}
