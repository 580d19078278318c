namespace Pipeline.Core.Query;

/// <summary>Why a query was refused: an HTTP status, a stable code, a message that names the parameter, and the parameter.</summary>
public sealed record QueryError(int Status, string Code, string Message, string? Parameter = null)
{
    public static QueryError BadRequest(string code, string parameter, string message) => new(400, code, message, parameter);
}
