using System.Runtime.ExceptionServices;

namespace LazyMigrate.Internal;

/// <summary>
/// Turns an old store's refusal of a superseded write-back, carried through the resilience pipeline as a value, back
/// into the exception it was (its stack kept), for the dispatcher and the write path to complete the write-back as
/// skipped.
/// </summary>
internal static class WriteBackRefusal
{
    public static async ValueTask<bool> ThrowIfRefused(this ValueTask<WriteBackSupersededException?> writeBack)
    {
        if (await writeBack.ConfigureAwait(false) is { } refused)
        {
            ExceptionDispatchInfo.Throw(refused);
        }

        return true;
    }
}
