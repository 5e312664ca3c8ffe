using System.Globalization;

namespace LazyMigrate.CrashHost;

/// <summary>The <c>key=value</c> pairs after the crash point, read by every scenario's arguments.</summary>
internal sealed class KeyValueArguments
{
    private readonly Dictionary<string, string> _pairs = new(StringComparer.Ordinal);

    public KeyValueArguments(IEnumerable<string> args)
    {
        foreach (string arg in args)
        {
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ArgumentException($"Expected key=value, got '{arg}'.", nameof(args));
            }

            _pairs[arg[..equals]] = arg[(equals + 1)..];
        }
    }

    public string Required(string key) =>
        _pairs.TryGetValue(key, out string? value) ? value : throw new ArgumentException($"{key}= is missing.");

    public string[] Ids(string key) =>
        _pairs.TryGetValue(key, out string? value) ? value.Split(',', StringSplitOptions.RemoveEmptyEntries) : [];

    public int Number(string key, int fallback) =>
        _pairs.TryGetValue(key, out string? value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
}
