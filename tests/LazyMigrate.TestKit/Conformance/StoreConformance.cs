namespace LazyMigrate.TestKit.Conformance;

/// <summary>What the store suites need to know about the entity type an adapter stores.</summary>
public interface IConformanceEntities<TEntity>
{
    /// <summary>Creates an entity for an id; <paramref name="version"/> tells two values of one id apart.</summary>
    TEntity Create(string id, int version);

    /// <summary>Reads back the version an entity was created with.</summary>
    int VersionOf(TEntity entity);
}

/// <summary>Starts many tasks at once: each awaits one gate, opened when all are created.</summary>
public static class StartingGate
{
    public static async Task<T[]> RunAsync<T>(int count, Func<int, Task<T>> body)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<T>[] tasks = Enumerable
            .Range(0, count)
            .Select(i =>
                Task.Run(async () =>
                {
                    await gate.Task;
                    return await body(i);
                })
            )
            .ToArray();
        gate.SetResult();
        return await Task.WhenAll(tasks);
    }
}
