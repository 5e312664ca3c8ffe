namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// Converts entity ids to keys and back. An id that does not convert, or is not the canonical form of its key, is an
/// <see cref="InvalidEntityIdException"/>: one entity never answers to two ids.
/// </summary>
internal sealed class IdConversion<TKey>
    where TKey : notnull
{
    private readonly Func<string, TKey> _parse;
    private readonly Func<TKey, string> _format;

    private IdConversion(Func<string, TKey> parse, Func<TKey, string> format)
    {
        _parse = parse;
        _format = format;
    }

    /// <summary>
    /// Gets whether the key type has a default conversion (see <see
    /// cref="EntityFrameworkCoreStoreOptions{TKey}.ParseId"/>).
    /// </summary>
    public static bool HasDefault => DefaultIdConversion<TKey>.Value is not null;

    public static IdConversion<TKey> From(EntityFrameworkCoreStoreOptions<TKey> options)
    {
        if (options.ParseId is { } parse && options.FormatKey is { } format)
        {
            return new(parse, format);
        }

        var (defaultParse, defaultFormat) =
            DefaultIdConversion<TKey>.Value
            ?? throw new InvalidOperationException(
                $"Key type {typeof(TKey).Name} has no default id conversion: set both ParseId and FormatKey."
            );
        return new(options.ParseId ?? defaultParse, options.FormatKey ?? defaultFormat);
    }

    public TKey ToKey(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        TKey? key;
        try
        {
            key = _parse(id);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw new InvalidEntityIdException(
                id,
                $"it does not convert to {KeyName} ({exception.Message})",
                exception
            );
        }

        if (key is null)
        {
            throw new InvalidEntityIdException(id, $"it converts to a null {typeof(TKey).Name} key");
        }

        string canonical = ToId(key);
        if (!string.Equals(canonical, id, StringComparison.Ordinal))
        {
            throw new InvalidEntityIdException(
                id,
                $"it is not the canonical form of its {typeof(TKey).Name} key, which is '{canonical}'"
            );
        }

        return key;
    }

    public string ToId(TKey key) => _format(key);

    /// <summary>Gets the key type's name after its indefinite article, as a message reads it: "an Int32 key".</summary>
    private static string KeyName { get; } = $"{KeyTypeNames.Article(typeof(TKey).Name)} {typeof(TKey).Name} key";
}
