namespace LazyMigrate.PostgreSql;

/// <summary>Options of <see cref="PostgreSqlAdvisoryLockProvider"/>, validated at start-up.</summary>
public sealed class PostgreSqlAdvisoryLockOptions
{
    /// <summary>
    /// Gets or sets how long a waiting acquisition first sleeps between two tries; each sleep doubles, up to <see
    /// cref="MaxPollInterval"/>.
    /// </summary>
    /// <value>The default value is 10 milliseconds.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Gets or sets the longest sleep between two tries of a waiting acquisition.</summary>
    /// <value>The default value is 200 milliseconds.</value>
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Gets or sets how long a held lock's connection may stay silent before a keep-alive query checks it, which is how
    /// a connection that died without a word (a network partition) is noticed. <see cref="TimeSpan.Zero"/> turns
    /// keep-alives off; a connection the server closes (<c>pg_terminate_backend</c>, a restart) is noticed at once
    /// either way.
    /// </summary>
    /// <value>The default value is 15 seconds.</value>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Gets or sets whether the data source comes from the container (set by the builder extension), so validation
    /// checks one is registered.
    /// </summary>
    internal bool DataSourceFromContainer { get; set; }
}
