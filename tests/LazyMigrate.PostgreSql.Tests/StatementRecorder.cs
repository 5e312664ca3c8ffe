using System.Diagnostics;

namespace LazyMigrate.PostgreSql.Tests;

/// <summary>
/// Records the statements Npgsql sends (one activity per round trip: a command or a whole batch) under each step a test
/// names with <see cref="Step"/>, so that a test can count round trips and see what each one held.
/// </summary>
/// <remarks>
/// By default a round trip belongs to a step when it runs in that step's activity. A migration runs outside its
/// caller's execution context (it is shared by every caller of the id), so its round trips carry no step: a recorder
/// made with a table name records instead every round trip that names that table while a step is open.
/// </remarks>
internal sealed class StatementRecorder : IDisposable
{
    private readonly ActivitySource _source = new($"LazyMigrate.Tests.{Guid.NewGuid():N}");
    private readonly ActivityListener _listener;
    private readonly Dictionary<string, List<string>> _statements = [];
    private readonly string? _table;
    private volatile Activity? _open;

    /// <summary>Initializes a new instance of the <see cref="StatementRecorder"/> class.</summary>
    /// <param name="table">A table name that marks the round trips to record, or <see langword="null"/> to go by
    /// activity.</param>
    public StatementRecorder(string? table = null)
    {
        _table = table;
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Npgsql" || s.Name == _source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = Record,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>
    /// Starts a step: the round trips made until it is disposed are recorded under <paramref name="name"/>.
    /// </summary>
    public Activity Step(string name)
    {
        Activity step =
            _source.StartActivity(name)
            ?? throw new InvalidOperationException("The recorder's listener is not sampling.");
        _open = step;
        return step;
    }

    /// <summary>Gets the round trips of a step, each as the SQL it sent.</summary>
    public IReadOnlyList<string> Of(string step)
    {
        lock (_statements)
        {
            return _statements.TryGetValue(step, out List<string>? list) ? [.. list] : [];
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        _source.Dispose();
    }

    private void Record(Activity activity)
    {
        if (activity.Source.Name != "Npgsql")
        {
            return;
        }

        string statement = activity.GetTagItem("db.statement") as string ?? string.Empty;
        string? step = _table is null
            ? (activity.Parent is { } parent && parent.Source.Name == _source.Name ? parent.OperationName : null)
            : (
                _open is { IsStopped: false } open && statement.Contains(_table, StringComparison.Ordinal)
                    ? open.OperationName
                    : null
            );
        if (step is null)
        {
            return;
        }

        lock (_statements)
        {
            if (!_statements.TryGetValue(step, out List<string>? list))
            {
                _statements[step] = list = [];
            }

            list.Add(statement);
        }
    }
}
