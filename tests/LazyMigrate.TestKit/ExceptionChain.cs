namespace LazyMigrate.TestKit;

/// <summary>Reads an exception with its causes, as a host's start reports them (possibly in an aggregate).</summary>
public static class ExceptionChain
{
    /// <summary>The messages of the exception and its causes, outermost first, joined by " | ".</summary>
    public static string Messages(Exception error) => string.Join(" | ", Causes(error).Select(e => e.Message));

    /// <summary>The exception, its inner exceptions and those of an aggregate, outermost first.</summary>
    public static IEnumerable<Exception> Causes(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (Exception inner in aggregate.InnerExceptions.SelectMany(Causes))
                {
                    yield return inner;
                }

                yield break;
            }
        }
    }
}
