namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// The order of text under PostgreSQL's <c>COLLATE "C"</c>: the order of its UTF-8 bytes, which is its code points'
/// order. .NET's ordinal order is the UTF-16 code units', which puts the code points above U+FFFF (surrogates) before
/// U+E000-U+FFFF. A range's bounds and a batch's lock order must follow the server's order.
/// </summary>
internal static class CodePointOrder
{
    /// <summary>Compares two strings in code point order.</summary>
    public static int Compare(string left, string right)
    {
        int common = left.AsSpan().CommonPrefixLength(right);
        if (common == left.Length || common == right.Length)
        {
            return left.Length.CompareTo(right.Length);
        }

        return CodePointRank(left[common]).CompareTo(CodePointRank(right[common]));
    }

    /// <summary>
    /// Ranks a UTF-16 code unit where strings first differ so that surrogates (the code points above U+FFFF) come
    /// after U+E000-U+FFFF, as their code points do.
    /// </summary>
    private static int CodePointRank(char unit) =>
        unit switch
        {
            < '\uD800' => unit,
            >= '\uE000' => unit - 0x800,
            _ => unit + 0x2000,
        };
}
