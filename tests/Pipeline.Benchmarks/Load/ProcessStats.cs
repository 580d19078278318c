using System.Globalization;

namespace Pipeline.Benchmarks.Load;

/// <summary>A process's memory and CPU as Linux reports them in /proc (0 where /proc is not available).</summary>
public static class ProcessStats
{
    /// <summary>Resident set size, KiB.</summary>
    public static long RssKb(int pid) => StatusKb(pid, "VmRSS:");

    /// <summary>Peak resident set size (high-water mark), KiB.</summary>
    public static long PeakRssKb(int pid) => StatusKb(pid, "VmHWM:");

    /// <summary>User + system CPU seconds (/proc/pid/stat fields 14 and 15, in clock ticks of 1/100 s).</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>Busy CPU seconds of the whole machine since boot (/proc/stat "cpu": every field but idle and iowait, in ticks of 1/100 s).</summary>
    public static double MachineCpuSeconds()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal (guest time is already in user).
            long busy = 0;
            for (var i = 0; i < Math.Min(f.Length, 8); i++)
                if (i is not (3 or 4)) busy += f[i];
            return busy / 100.0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return 0;
        }
    }

    /// <summary>The 1, 5 and 15-minute load averages, as /proc/loadavg prints them.</summary>
    public static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "?"; }
    }

    private static long StatusKb(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith(field, StringComparison.Ordinal))
                    return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return 0;
    }
}
