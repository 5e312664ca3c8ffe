using LazyMigrate.TestKit;

namespace LazyMigrate.CrashHost;

/// <summary>An old store whose writes pass through a <see cref="CrashGate"/> first.</summary>
internal sealed class GatedWritesOldStore<TOld>(IOldStore<TOld> inner, CrashGate gate)
    : BeforeWriteOldStore<TOld>(inner)
    where TOld : class
{
    protected override Task BeforeWriteAsync(string id, bool isDelete, CancellationToken cancellationToken) =>
        gate.PassOrHoldAsync();
}
