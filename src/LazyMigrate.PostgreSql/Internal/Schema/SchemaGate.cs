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
    private readonly SemaphoreSlim _creating = new(1, 1);
    private volatile bool _ready;

    public SchemaGate(NpgsqlDataSource dataSource, DocumentTableName table, bool createSchema, ILogger logger)
        : this(dataSource, table, PostgreSqlDocumentStoreSchema.CreateScript(table), createSchema, logger) { }

    /// <summary>A gate that runs <paramref name="script"/> (idempotent) to create <paramref name="table"/>.</summary>
    public SchemaGate(
        NpgsqlDataSource dataSource,
        DocumentTableName table,
        string script,
        bool createSchema,
        ILogger logger
    )
    {
        _dataSource = dataSource;
        _table = table;
        _script = script;
        _logger = logger;
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
                    .CreateAsync(_dataSource, _table, _script, cancellationToken)
                    .ConfigureAwait(false)
            )
            {
                PostgreSqlLog.TableCreated(_logger, _table.Qualified);
            }

            _ready = true;
        }
        finally
        {
            _creating.Release();
        }
    }
}
