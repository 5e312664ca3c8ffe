namespace LazyMigrate.TestKit.Chaos;

/// <summary>
/// A fault <see cref="StoreChaos"/> injected: an <see cref="IOException"/>, so the library treats it as the transient
/// failure of a store it stands for (a dropped connection, a reply lost on the way back).
/// </summary>
public sealed class InjectedFaultException(string message) : IOException(message);
