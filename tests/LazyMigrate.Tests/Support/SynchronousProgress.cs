namespace LazyMigrate.Tests.Support;

/// <summary>
/// An <see cref="IProgress{T}"/> that reports on the caller's thread, unlike <see cref="Progress{T}"/>, which posts:
/// a test sees every report in order, before the code under test goes on.
/// </summary>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
