namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>How a message names a key type: with the indefinite article it is read with.</summary>
internal static class KeyTypeNames
{
    /// <summary>The beginnings of a word read with the "you" of <c>Uri</c>, <c>Unit</c> or <c>Ulid</c>.</summary>
    private static readonly string[] YouSounds = ["Uni", "Us", "Ur", "Uu", "Ut", "Uli"];

    /// <summary>
    /// "an" before a vowel sound, "a" otherwise, as a CLR type name is read aloud: a name that begins with two capitals
    /// (<c>SByte</c>, <c>UInt32</c>, <c>IPAddress</c>) begins with a letter spelled out, which sounds a vowel unless it
    /// is one of the letters read with a consonant (<c>U</c> is "you"); a word begins with a vowel sound when its first
    /// letter is a vowel, but for the "you" of <c>Uri</c>, <c>Unit</c> or <c>Uuid</c>.
    /// </summary>
    public static string Article(string name)
    {
        if (name.Length == 0)
        {
            return "a";
        }

        char first = char.ToUpperInvariant(name[0]);
        if (name.Length > 1 && char.IsUpper(name[0]) && char.IsUpper(name[1]))
        {
            return "AEFHILMNORSX".Contains(first, StringComparison.Ordinal) ? "an" : "a";
        }

        bool you = YouSounds.Any(y => name.StartsWith(y, StringComparison.OrdinalIgnoreCase));
        return "AEIOU".Contains(first, StringComparison.Ordinal) && !you ? "an" : "a";
    }
}
