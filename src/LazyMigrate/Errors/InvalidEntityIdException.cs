using System.Buffers;

namespace LazyMigrate;

/// <summary>An id a store cannot use, for example one that does not parse as the store's key type.</summary>
/// <remarks>
/// The repository throws it for an id that no store can key on (see <see cref="ThrowIfInvalid"/>) before any store or
/// lock call; store adapters throw it for ids their own key type rejects. It is passed on unchanged and never retried.
/// </remarks>
public sealed class InvalidEntityIdException : LazyMigrationException
{
    // NUL and every surrogate: one vectorized scan, which allocates nothing at any tier of the JIT (the generic
    // IndexOfAnyInRange allocates before it is tiered up, and the hot read runs it on every call).
    private static readonly SearchValues<char> NulOrSurrogate = SearchValues.Create(
        string.Create(
            0x801,
            0,
            static (chars, _) =>
            {
                chars[0] = '\0';
                for (int i = 1; i < chars.Length; i++)
                {
                    chars[i] = (char)(0xD800 + i - 1);
                }
            }
        )
    );

    /// <summary>Initializes a new instance of the <see cref="InvalidEntityIdException"/> class.</summary>
    /// <param name="entityId">The id.</param>
    /// <param name="cause">Why it is invalid.</param>
    /// <param name="innerException">The parse failure, if any.</param>
    public InvalidEntityIdException(string entityId, string cause, Exception? innerException = null)
        : base(entityId, $"Entity id '{entityId}' is invalid: {cause}", innerException) { }

    /// <summary>
    /// Throws when no store can key on <paramref name="id"/>: it holds a NUL character (a PostgreSQL <c>text</c> or a C
    /// string cannot) or a lone UTF-16 surrogate (it has no UTF-8 encoding). Any other text, the empty string
    /// included, passes. It allocates nothing unless it throws.
    /// </summary>
    /// <param name="id">The id.</param>
    /// <exception cref="ArgumentNullException"><paramref name="id"/> is null.</exception>
    /// <exception cref="InvalidEntityIdException">No store can key on the id.</exception>
    public static void ThrowIfInvalid(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        int suspect = id.AsSpan().IndexOfAny(NulOrSurrogate);
        if (suspect >= 0)
        {
            ThrowIfInvalidFrom(id, suspect);
        }
    }

    /// <summary>
    /// Looks closer from the first NUL or surrogate on: a surrogate pair is fine, anything else is not.
    /// </summary>
    private static void ThrowIfInvalidFrom(string id, int start)
    {
        ReadOnlySpan<char> text = id.AsSpan(start);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\0')
            {
                throw new InvalidEntityIdException(id, "it holds a NUL character, which a text key cannot hold.");
            }

            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                throw new InvalidEntityIdException(
                    id,
                    "it holds a lone UTF-16 surrogate, which has no UTF-8 encoding."
                );
            }
        }
    }
}
