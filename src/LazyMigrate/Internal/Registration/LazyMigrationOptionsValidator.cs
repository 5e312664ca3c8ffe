using System.Text;
using LazyMigrate.Outbox;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LazyMigrate.Internal;

/// <summary>
/// Checks one migration's options and that everything it needs is registered for it (keyed by its name) or for the
/// whole container, so that a missing mapper, store or lock fails the application at start-up instead of the first
/// read.
/// </summary>
/// <remarks>
/// Whether the new store can lock itself is known only from the store, so when the lock depends on it the validator
/// builds the new store (a singleton the repository uses next).
/// </remarks>
internal sealed class LazyMigrationOptionsValidator<TOld, TNew>(
    IServiceProvider provider,
    MigrationDescriptor<TOld, TNew> descriptor
) : IValidateOptions<LazyMigrationOptions>
    where TOld : class
    where TNew : class
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromHours(1);

    public ValidateOptionsResult Validate(string? name, LazyMigrationOptions options)
    {
        string migration = descriptor.Name;
        if (name != migration)
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = new List<string>();
        CheckValues(options, failures);
        CheckServices(options, migration, failures);
        return failures.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(failures.Select(f => $"Migration '{migration}': {f}"));
    }

    private static void CheckValues(LazyMigrationOptions options, List<string> failures)
    {
        if (options.LockTimeout < TimeSpan.Zero || options.LockTimeout > MaxWait)
        {
            failures.Add($"LockTimeout must be between 0 and {MaxWait}, not {options.LockTimeout}.");
        }

        if (options.AttemptTimeout <= TimeSpan.Zero || options.AttemptTimeout > MaxWait)
        {
            failures.Add($"AttemptTimeout must be greater than 0 and at most {MaxWait}, not {options.AttemptTimeout}.");
        }

        if (options.MaxRetryAttempts is < 0 or > 20)
        {
            failures.Add($"MaxRetryAttempts must be between 0 and 20, not {options.MaxRetryAttempts}.");
        }

        if (options.RetryDelay < TimeSpan.Zero || options.RetryDelay > MaxWait)
        {
            failures.Add($"RetryDelay must be between 0 and {MaxWait}, not {options.RetryDelay}.");
        }

        if (options.NegativeCacheDuration < TimeSpan.Zero)
        {
            failures.Add($"NegativeCacheDuration must not be negative, not {options.NegativeCacheDuration}.");
        }

        if (!Enum.IsDefined(options.WriteBackMode))
        {
            failures.Add($"WriteBackMode {(int)options.WriteBackMode} is not a defined value.");
        }
        else if (options.WriteBackMode == WriteBackMode.Sync && !options.UseLock)
        {
            failures.Add(
                "WriteBackMode.Sync needs UseLock: without the entity's lock, "
                    + "concurrent saves of one id could reach the two stores in different orders."
            );
        }

        if (options.ForwardSync && !options.UseLock)
        {
            failures.Add(
                "ForwardSync needs UseLock: a forward sync reads both stores and writes the new one under the "
                    + "entity's lock, so that it never overwrites a save it did not see."
            );
        }
    }

    private static string NeedsAnOutbox(string option) =>
        $"{option} needs an outbox: call an UseOutbox method (for example UsePostgreSqlOutbox, "
        + "UseEntityFrameworkCoreOutbox, or UseInMemoryOutbox in tests).";

    private void CheckServices(LazyMigrationOptions options, string migration, List<string> failures)
    {
        var services = provider.GetRequiredService<IServiceProviderIsService>();
        Require<IMigrationMapper<TOld, TNew>>(services, migration, "a mapper: call UseMapper", failures);
        Require<IOldStore<TOld>>(
            services,
            migration,
            "an old store: call an UseOldStore method (for example UseInMemoryOldStore)",
            failures
        );
        bool hasNewStore = Require<INewStore<TNew>>(
            services,
            migration,
            "a new store: call an UseNewStore method (for example UseInMemoryNewStore)",
            failures
        );

        if (
            options.WriteBackMode != WriteBackMode.None
            && !MigrationServices.IsRegistered(services, typeof(IReverseMigrationMerger<TOld, TNew>), migration)
        )
        {
            Require<IReverseMigrationMapper<TOld, TNew>>(
                services,
                migration,
                $"a reverse mapper or a reverse merger for WriteBackMode.{options.WriteBackMode}: "
                    + "call UseReverseMapper or UseReverseMerger",
                failures
            );
        }

        // Async write-back lives in the outbox alone: one in memory, which every migration has for its events, would
        // lose it with the process. An in-memory outbox chosen on purpose (UseInMemoryOutbox) is a choice for tests.
        bool hasOutbox =
            services is IServiceProviderIsKeyedService keyed
            && keyed.IsKeyedService(typeof(IMigrationOutbox), migration);
        if (!hasOutbox && options.WriteBackMode == WriteBackMode.Async)
        {
            failures.Add(NeedsAnOutbox("WriteBackMode.Async"));
        }

        if (!hasOutbox && options.ForwardSync)
        {
            failures.Add(NeedsAnOutbox("ForwardSync"));
        }

        if (hasNewStore)
        {
            CheckLock(
                options,
                migration,
                MigrationServices.IsRegistered(services, typeof(IMigrationLockProvider), migration),
                failures
            );
        }

        if (options.NegativeCacheDuration > TimeSpan.Zero)
        {
            Require<IMemoryCache>(
                services,
                migration,
                "an IMemoryCache for NegativeCacheDuration: call UseNegativeCache or services.AddMemoryCache()",
                failures
            );
        }
    }

    private void CheckLock(LazyMigrationOptions options, string migration, bool hasLockProvider, List<string> failures)
    {
        if (!MigrationLockChoice.DependsOnNewStore(options, hasLockProvider))
        {
            return;
        }

        INewStore<TNew> newStore;
        try
        {
            newStore = MigrationServices.Get<INewStore<TNew>>(provider, migration);
        }
        catch (Exception exception)
        {
            failures.Add(
                $"the new store, whose own lock the migration would take, could not be built: {Describe(exception)}"
            );
            return;
        }

        MigrationLockChoice.Choose(options, hasLockProvider, newStore, out string? problem);
        if (problem is not null)
        {
            failures.Add(problem);
        }
    }

    /// <summary>
    /// The message, the type and every inner error: a factory's own message often hides the real cause.
    /// </summary>
    private static string Describe(Exception exception)
    {
        var text = new StringBuilder($"{exception.Message} ({exception.GetType().Name}");
        for (Exception? inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            text.Append($"; caused by {inner.GetType().Name}: {inner.Message}");
        }

        return text.Append(')').ToString();
    }

    private static bool Require<TService>(
        IServiceProviderIsService services,
        string migration,
        string what,
        List<string> failures
    )
    {
        if (MigrationServices.IsRegistered(services, typeof(TService), migration))
        {
            return true;
        }

        failures.Add($"needs {what}.");
        return false;
    }
}
