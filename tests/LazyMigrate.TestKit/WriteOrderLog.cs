namespace LazyMigrate.TestKit;

/// <summary>
/// The states each entity went through in the new store, in order: writers log each save (by a version that grows
/// with every write of the entity) and each delete before they make it, so that an
/// <see cref="OrderCheckingOldStore{TOld}"/> can tell which of them a write-back brings to the old store.
/// </summary>
/// <remarks>
/// A state is logged before its write, so every state a dispatcher can read is logged. The writes of one entity must
/// come one after another (one writer per entity), so that the order they are logged in is the new store's.
/// </remarks>
public sealed class WriteOrderLog
{
    private readonly Dictionary<string, List<long?>> _states = new(StringComparer.Ordinal);

    /// <summary>Logs a save of <paramref name="id"/> at <paramref name="version"/>, higher than its last.</summary>
    public void Saving(string id, long version) => Append(id, version);

    /// <summary>Logs a delete of <paramref name="id"/>.</summary>
    public void Deleting(string id) => Append(id, null);

    /// <summary>
    /// The position in <paramref name="id"/>'s states of the one the old store is given: the save at
    /// <paramref name="version"/>, or for a delete (<see langword="null"/>) the first delete at or after
    /// <paramref name="from"/> (any later one looks the same in the old store). -1 when no such state was logged.
    /// </summary>
    public int PositionOf(string id, long? version, int from)
    {
        lock (_states)
        {
            if (!_states.TryGetValue(id, out List<long?>? states))
            {
                return -1;
            }

            if (version is not null)
            {
                return states.IndexOf(version);
            }

            for (int position = Math.Max(from, 0); position < states.Count; position++)
            {
                if (states[position] is null)
                {
                    return position;
                }
            }

            return -1;
        }
    }

    /// <summary>Describes the state at <paramref name="position"/> of <paramref name="id"/>, for a message.</summary>
    public string Describe(string id, int position)
    {
        lock (_states)
        {
            return position < 0 ? "the seeded record"
                : _states[id][position] is { } version ? $"state #{position} (saved at version {version})"
                : $"state #{position} (deleted)";
        }
    }

    private void Append(string id, long? version)
    {
        lock (_states)
        {
            if (!_states.TryGetValue(id, out List<long?>? states))
            {
                _states[id] = states = [];
            }

            if (version is not null && states.Any(v => v >= version))
            {
                throw new InvalidOperationException($"{id}: version {version} is not above every earlier one.");
            }

            states.Add(version);
        }
    }
}
