using System.Globalization;
using Npgsql;

namespace LazyMigrate.WebService;

/// <summary>
/// The service's command line, read from the host's configuration (so <c>--postgres "..."</c> and
/// <c>--write-back async</c> work beside <c>--urls</c>): where the databases are and how the migration writes back.
/// </summary>
/// <remarks>
/// <c>--max-attempts N</c> dead-letters an outbox item after N failed attempts (the library's default otherwise, see
/// <c>OutboxOptions.MaxAttempts</c>): with 1, a forward sync the mapper refuses is a dead letter at once.
/// </remarks>
public sealed record ServiceSettings(
    string? Postgres,
    WriteBackMode WriteBack,
    string DataFolder,
    int Records,
    bool Reset,
    TimeSpan PollInterval,
    int? MaxAttempts
)
{
    /// <summary>The address the service binds unless <c>--urls</c> says otherwise: loopback only.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5080";

    /// <summary>Reads the settings; a value that does not parse fails the start, naming the option.</summary>
    /// <exception cref="ArgumentException">An option's value is invalid.</exception>
    public static ServiceSettings From(IConfiguration configuration) =>
        new(
            ConnectionString(configuration["postgres"]),
            configuration["write-back"]?.ToLowerInvariant() switch
            {
                null or "sync" => WriteBackMode.Sync,
                "async" => WriteBackMode.Async,
                string other => throw new ArgumentException($"--write-back must be sync or async, not '{other}'"),
            },
            configuration["data"] ?? Path.Combine(Environment.CurrentDirectory, "lazymigrate-webservice-data"),
            Positive(configuration, "records", 3_000),
            bool.TryParse(configuration["reset"], out bool reset) && reset,
            TimeSpan.FromMilliseconds(Positive(configuration, "poll-interval-ms", 100)),
            configuration["max-attempts"] is null ? null : MaxAttemptsFrom(configuration)
        );

    /// <summary>
    /// A connection string Npgsql reads, checked before anything connects; Npgsql's error names a keyword, never a
    /// value (a password).
    /// </summary>
    private static string? ConnectionString(string? value)
    {
        try
        {
            _ = value is null ? null : new NpgsqlConnectionStringBuilder(value);
            return value;
        }
        catch (ArgumentException invalid)
        {
            throw new ArgumentException($"--postgres is not a connection string Npgsql reads: {invalid.Message}");
        }
    }

    /// <summary>The outbox accepts 1 to 1,000 attempts (<c>OutboxOptions.MaxAttempts</c>).</summary>
    private static int MaxAttemptsFrom(IConfiguration configuration) =>
        Positive(configuration, "max-attempts", 0) is var attempts and <= 1000
            ? attempts
            : throw new ArgumentException($"--max-attempts must be 1 to 1000, not '{configuration["max-attempts"]}'");

    private static int Positive(IConfiguration configuration, string option, int defaultValue) =>
        configuration[option] switch
        {
            null => defaultValue,
            string text
                when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0 =>
                value,
            string text => throw new ArgumentException($"--{option} must be a positive integer, not '{text}'"),
        };
}
