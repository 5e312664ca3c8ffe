using System.Security.Cryptography;
using System.Text;

namespace LazyMigrate.Internal;

/// <summary>
/// Derives the event id from the migration name and the entity id. An entity migrates once, so this names the event
/// uniquely, and every instance and every redelivery computes the same id without storing it.
/// </summary>
internal static class EntityMigratedEventId
{
    public static Guid For(string migrationName, string entityId)
    {
        byte[] input = Encoding.UTF8.GetBytes(migrationName + "\n" + entityId);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        Span<byte> bytes = hash[..16];

        // Mark it as an RFC 9562 version 8 (custom) UUID so it is never mistaken for a random one.
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }
}
