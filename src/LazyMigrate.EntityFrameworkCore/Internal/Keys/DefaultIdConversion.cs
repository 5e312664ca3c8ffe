using System.Globalization;
using System.Reflection;

namespace LazyMigrate.EntityFrameworkCore.Internal;

/// <summary>
/// The id conversion used when none is configured: the identity for <see cref="string"/> keys; invariant-culture
/// <c>Parse</c> and <c>ToString</c> for keys that are <see cref="IParsable{TSelf}"/> and <see cref="IFormattable"/>.
/// </summary>
internal static class DefaultIdConversion<TKey>
{
    public static (Func<string, TKey> Parse, Func<TKey, string> Format)? Value { get; } = Create();

    private static (Func<string, TKey>, Func<TKey, string>)? Create()
    {
        if (typeof(TKey) == typeof(string))
        {
            Func<string, string> identity = static id => id;
            return ((Func<string, TKey>)(object)identity, (Func<TKey, string>)(object)identity);
        }

        bool parsable = typeof(TKey)
            .GetInterfaces()
            .Any(i =>
                i.IsGenericType
                && i.GetGenericTypeDefinition() == typeof(IParsable<>)
                && i.GenericTypeArguments[0] == typeof(TKey)
            );
        if (!parsable || !typeof(IFormattable).IsAssignableFrom(typeof(TKey)))
        {
            return null;
        }

        MethodInfo create = typeof(ParsableIdConversion).GetMethod(
            nameof(ParsableIdConversion.Create),
            BindingFlags.Public | BindingFlags.Static
        )!;
        return ((Func<string, TKey>, Func<TKey, string>))create.MakeGenericMethod(typeof(TKey)).Invoke(null, null)!;
    }
}

/// <summary>The conversion of <see cref="IParsable{TSelf}"/> keys, in the invariant culture.</summary>
internal static class ParsableIdConversion
{
    public static (Func<string, T> Parse, Func<T, string> Format) Create<T>()
        where T : IParsable<T>, IFormattable =>
        (
            static id => T.Parse(id, CultureInfo.InvariantCulture),
            static key => key.ToString(null, CultureInfo.InvariantCulture)
        );
}
