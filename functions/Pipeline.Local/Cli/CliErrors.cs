namespace Pipeline.Local.Cli;

/// <summary>A failure the user can fix: printed as one line saying what to do, exit code 1 (no stack trace).</summary>
public sealed class CliException(string message) : Exception(message);

internal static class CliRun
{
    /// <summary>Runs a verb, turning expected failures into a clear message and a non-zero exit code.</summary>
    public static async Task<int> GuardAsync(Func<Task<int>> verb)
    {
        try
        {
            return await verb();
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Pipeline.Core.Ports.StorageUnavailableException e)
        {
            Console.Error.WriteLine($"error: storage is unreachable ({e.Message}). Is Azurite running, or is PipelineStorage set to a reachable account?");
            return 2;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException e)
        {
            Console.Error.WriteLine($"error: invalid configuration: {string.Join("; ", e.Failures)}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled.");
            return 130;
        }
    }
}
