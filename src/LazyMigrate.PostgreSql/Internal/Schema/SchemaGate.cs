using Microsoft.Extensions.Logging;
using Npgsql;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>
/// Creates a store's (or the outbox's) table before its first command when <see
/// cref="PostgreSqlDocumentStoreOptions.CreateSchema"/> (or <see cref="PostgreSqlOutboxOptions.CreateSchema"/>) is
/// on: once per store, concurrent first callers wait for the one creating it. Costs one field read afterwards.
/// </summary>
internal sealed class SchemaGate
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly DocumentTableName _table;
    private readonly string _script;
    private readonly ILogger _logger;
    private readonly string? _requiredColumn;
    private readonly Action<ILogger> _logCreated;
    private readonly SemaphoreSlim _creating = new(1, 1);
    private volatile bool _ready;

    /// <summary>
    /// A gate that runs <paramref name="script"/> (idempotent) to create <paramref name="table"/>, or, with
    /// <paramref name="requiredColumn"/>, also when the table lacks that column (the script adds it). Once the script
    /// ran, <paramref name="logCreated"/> logs what it created; by default a document store's table, a new store's when
    /// there is a <paramref name="requiredColumn"/> (an old store's table needs no column beyond the first layout).
    /// </summary>
    public SchemaGate(
        NpgsqlDataSource dataSource,
        DocumentTableName table,
        string script,
        bool createSchema,
        ILogger logger,
        string? requiredColumn = null,
        Action<ILogger>? logCreated = null
    )
    {
        _logCreated =
            logCreated
            ?? (
                l =>
                    PostgreSqlLog.StoreTableCreated(
                        l,
                        requiredColumn is null ? MigrationRole.OldStore : MigrationRole.NewStore,
                        table.Qualified
                    )
            );
        _dataSource = dataSource;
        _table = table;
        _script = script;
        _logger = logger;
        _requiredColumn = requiredColumn;
        _ready = !createSchema;
    }

    /// <summary>
    /// Completes when the table is there; also where every store call observes a token cancelled before it started.
    /// </summary>
    public ValueTask EnsureAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        return _ready ? default : CreateAsync(cancellationToken);
    }

    private async ValueTask CreateAsync(CancellationToken cancellationToken)
    {
        await _creating.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_ready)
            {
                return;
            }

            if (
                await PostgreSqlDocumentStoreSchema
                    .CreateAsync(_dataSource, _table, _script, _requiredColumn, cancellationToken)
                    .ConfigureAwait(false)
            )
            {
                _logCreated(_logger);
            }

            _ready = true;
        }
        finally
        {
            _creating.Release();
        }
    }
}
