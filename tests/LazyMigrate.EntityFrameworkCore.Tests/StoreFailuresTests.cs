using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace LazyMigrate.EntityFrameworkCore.Tests;

/// <summary>
/// Which failures the stores surface as <see cref="TransientStoreException"/> (retried by the core), wherever EF Core
/// wrapped them.
/// </summary>
public sealed class StoreFailuresTests
{
    public static TheoryData<Exception> Transient =>
        new()
        {
            new DbUpdateException(
                "save failed",
                new PostgresException(
                    "could not serialize access",
                    "ERROR",
                    "ERROR",
                    PostgresErrorCodes.SerializationFailure
                )
            ),
            new PostgresException("deadlock detected", "ERROR", "ERROR", PostgresErrorCodes.DeadlockDetected),
            new InvalidOperationException("wrapped", new NpgsqlException("connection lost", new IOException("reset"))),
            new DbUpdateException("save failed", new TimeoutException()),
        };

    public static TheoryData<Exception> NotTransient =>
        new()
        {
            new DbUpdateException(
                "save failed",
                new PostgresException("duplicate key", "ERROR", "ERROR", PostgresErrorCodes.UniqueViolation)
            ),
            new DbUpdateException("save failed", new SqliteException("UNIQUE constraint failed", 19)),
            new DbUpdateConcurrencyException("no row"),
            new InvalidEntityIdException("x", "bad"),
            new OperationCanceledException(),
            new TransientStoreException("already surfaced", new TimeoutException()),
        };

    [Theory]
    [MemberData(nameof(Transient))]
    public void FailuresWorthRetrying_AreTransient(Exception exception) =>
        Assert.True(StoreFailures.IsTransient(exception));

    [Theory]
    [MemberData(nameof(NotTransient))]
    public void ConstraintViolationsBadInputAndCancellation_AreNot(Exception exception) =>
        Assert.False(StoreFailures.IsTransient(exception));

    [Fact]
    public void TheSurfacedException_KeepsTheCause()
    {
        DbException cause = new PostgresException(
            "could not serialize access",
            "ERROR",
            "ERROR",
            PostgresErrorCodes.SerializationFailure
        );

        TransientStoreException surfaced = StoreFailures.Transient(
            "Customer",
            "upsert",
            new DbUpdateException("save failed", cause)
        );

        Assert.Same(cause, surfaced.InnerException!.InnerException);
        Assert.Contains("upsert", surfaced.Message, StringComparison.Ordinal);
    }
}
