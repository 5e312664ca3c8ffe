using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LazyMigrate;

/// <summary>
/// Checks one migration's options and that everything it needs is registered, so that a missing mapper or store
/// fails the application at start-up instead of the first read.
/// </summary>
internal sealed class LazyMigrationOptionsValidator<TOld, TNew>(IServiceProviderIsService services, MigrationDescriptor<TOld, TNew> descriptor) : IValidateOptions<LazyMigrationOptions>
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
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures.Select(f => $"Migration '{migration}': {f}"));
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
        else if (options.WriteBackMode == WriteBackMode.Async)
        {
            failures.Add("WriteBackMode.Async is not available in this version; choose WriteBackMode.Sync or WriteBackMode.None.");
        }
        else if (options.WriteBackMode == WriteBackMode.Sync && !options.UseLock)
        {
            failures.Add("WriteBackMode.Sync needs UseLock: without the entity's lock, concurrent saves of one id could reach the two stores in different orders.");
        }
    }

    private void CheckServices(LazyMigrationOptions options, string migration, List<string> failures)
    {
        Require<IMigrationMapper<TOld, TNew>>("a mapper: call UseMapper", failures);
        Require<IOldStore<TOld>>("an old store: call an UseOldStore method (for example UseInMemoryOldStore)", failures);
        Require<INewStore<TNew>>("a new store: call an UseNewStore method (for example UseInMemoryNewStore)", failures);

        if (options.WriteBackMode != WriteBackMode.None)
        {
            Require<IReverseMigrationMapper<TOld, TNew>>($"a reverse mapper for WriteBackMode.{options.WriteBackMode}: call UseReverseMapper", failures);
        }

        if (options.UseLock && !options.LockInNewStore && !HasLockProvider(migration))
        {
            failures.Add("needs a lock provider: call UseLock or UseInMemoryLock, UseNewStoreLock for a new store that locks itself, or set UseLock to false to rely on insert-if-absent alone.");
        }

        if (options.NegativeCacheDuration > TimeSpan.Zero)
        {
            Require<IMemoryCache>("an IMemoryCache for NegativeCacheDuration: call UseNegativeCache or services.AddMemoryCache()", failures);
        }
    }

    private bool HasLockProvider(string migration) =>
        (services is IServiceProviderIsKeyedService keyed && keyed.IsKeyedService(typeof(IMigrationLockProvider), migration))
        || services.IsService(typeof(IMigrationLockProvider));

    private void Require<TService>(string what, List<string> failures)
    {
        if (!services.IsService(typeof(TService)))
        {
            failures.Add($"needs {what}.");
        }
    }
}
