namespace LazyMigrate.Internal;

/// <summary>The values of the failure-kind metrics tag.</summary>
internal static class FailureKinds
{
    public const string Mapping = "mapping";
    public const string LockTimeout = "lock_timeout";
    public const string Store = "store";
    public const string Handler = "handler";
    public const string WriteBack = "write_back";
    public const string ForwardSync = "forward_sync";

    public static string Of(Exception exception) =>
        exception switch
        {
            MigrationMappingException => Mapping,
            MigrationLockTimeoutException => LockTimeout,
            _ => Store,
        };
}
