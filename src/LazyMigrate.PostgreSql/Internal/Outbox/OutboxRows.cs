using LazyMigrate.Outbox;
using Npgsql;
using NpgsqlTypes;

namespace LazyMigrate.PostgreSql.Internal;

/// <summary>The parameters of the outbox's statements, and its rows read back as items.</summary>
/// <remarks>
/// Times go as <c>timestamptz</c> in UTC (Npgsql writes no other offset); PostgreSQL keeps microseconds, so a time
/// comes back truncated to them.
/// </remarks>
internal static class OutboxRows
{
    public static NpgsqlParameter<string> Text(string value) => new() { TypedValue = value };

    public static NpgsqlParameter<string[]> TextArray(IReadOnlyCollection<string> values) =>
        new() { TypedValue = values as string[] ?? [.. values] };

    /// <summary>A text parameter that may be SQL <c>NULL</c> (a lease owner).</summary>
    public static NpgsqlParameter NullableText(string? value) =>
        new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    public static NpgsqlParameter<short> Kind(OutboxItemKind kind) => new() { TypedValue = (short)kind };

    public static NpgsqlParameter<DateTime> Time(DateTimeOffset time) => new() { TypedValue = time.UtcDateTime };

    public static NpgsqlParameter<int> Int(int value) => new() { TypedValue = value };

    /// <summary>A payload as given, as <c>jsonb</c>: it keeps the value, in its own spacing and key order.
    /// </summary>
    public static NpgsqlParameter Payload(string? json) =>
        new() { Value = (object?)json ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Jsonb };

    /// <summary>The five parameters of one intent, in <see cref="OutboxStatements.RecordFrom"/>'s order.</summary>
    public static NpgsqlParameter[] Intent(OutboxIntent intent) =>
        [
            Text(intent.Migration),
            Kind(intent.Kind),
            Text(intent.EntityId),
            Payload(intent.Payload),
            Time(intent.RecordedAt),
        ];

    /// <summary>Reads the item at the reader's current row (<see cref="OutboxStatements.Columns"/>).</summary>
    public static OutboxItem Read(NpgsqlDataReader reader) =>
        new()
        {
            Migration = reader.GetString(0),
            Kind = (OutboxItemKind)reader.GetInt16(1),
            EntityId = reader.GetString(2),
            Version = reader.GetInt64(3),
            Payload = reader.IsDBNull(4) ? null : reader.GetString(4),
            RecordedAt = reader.GetFieldValue<DateTimeOffset>(5),
            Attempts = reader.GetInt32(6),
            NextAttemptAt = reader.GetFieldValue<DateTimeOffset>(7),
            LastError = reader.IsDBNull(8) ? null : reader.GetString(8),
            IsDeadLettered = reader.GetBoolean(9),
            LeaseOwner = reader.IsDBNull(10) ? null : reader.GetString(10),
            LeaseExpiresAt = reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTimeOffset>(11),
            Sequence = reader.GetInt64(12),
        };

    /// <summary>Reads every item of the reader's current result, whole, before the connection goes back.</summary>
    public static async ValueTask<IReadOnlyList<OutboxItem>> ReadAllAsync(
        NpgsqlDataReader reader,
        CancellationToken cancellationToken
    )
    {
        var items = new List<OutboxItem>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            items.Add(Read(reader));
        }

        return items;
    }
}
