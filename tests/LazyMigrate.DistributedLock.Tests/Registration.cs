namespace LazyMigrate.DistributedLock.Tests;

/// <summary>How <c>UseDistributedLock</c> is told which provider to use.</summary>
public enum Registration
{
    /// <summary><c>UseDistributedLock(provider)</c>.</summary>
    Provider,

    /// <summary><c>UseDistributedLock(services => provider)</c>.</summary>
    Factory,

    /// <summary><c>UseDistributedLock()</c> with the provider registered in the container.</summary>
    Container,
}
