using Microsoft.AspNetCore.Diagnostics;

namespace LazyMigrate.WebService;

/// <summary>
/// Turns LazyMigrate's typed errors into problem responses that name the customer and the cause: a client's fault is
/// a 4xx (a customer no store can hold as it is, such as a name holding U+0000, a 422 not worth retrying), a store or
/// lock that did not answer in time a 503 the client may retry.
/// </summary>
public sealed class MigrationProblems(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(
        HttpContext httpContext,
        Exception exception,
        CancellationToken cancellationToken
    )
    {
        int? status = exception switch
        {
            InvalidEntityIdException => StatusCodes.Status400BadRequest,
            // A write-back the old store cannot hold fails the save as a store failure whose cause is the data.
            MigrationMappingException
            or UnstorableEntityException
            or MigrationStoreException { InnerException: UnstorableEntityException } =>
                StatusCodes.Status422UnprocessableEntity,
            MigrationLockTimeoutException or MigrationStoreException => StatusCodes.Status503ServiceUnavailable,
            _ => null,
        };
        if (status is not { } code)
        {
            return false;
        }

        if (code == StatusCodes.Status503ServiceUnavailable)
        {
            httpContext.Response.Headers.RetryAfter = "1";
        }

        httpContext.Response.StatusCode = code;
        return await problems.TryWriteAsync(
            new ProblemDetailsContext
            {
                HttpContext = httpContext,
                Exception = exception,
                ProblemDetails = { Status = code, Detail = exception.Message },
            }
        );
    }
}
