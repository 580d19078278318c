namespace Pipeline.Benchmarks.Load;
public static class LoadHarness { public static Task<int> RunAsync(string[] args) => Task.FromResult(0); }
