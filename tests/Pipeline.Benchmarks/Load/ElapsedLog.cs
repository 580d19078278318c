using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Pipeline.Benchmarks.Load;

/// <summary>Progress lines prefixed with the seconds since the run started, so slow phases show.</summary>
internal sealed class ElapsedLog(TextWriter inner) : TextWriter
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value) => inner.Write(value);

    public override void WriteLine(string? value) =>
        inner.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:0.0} s] {value}"));
}
