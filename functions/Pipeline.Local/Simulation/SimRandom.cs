namespace Pipeline.Local.Simulation;

/// <summary>
/// A seeded <see cref="Random"/> with the draws the simulation needs. A seeded <see cref="Random"/>
/// is stable across runs and platforms, which is what makes a run reproducible. Each concern
/// (ecosystem, traffic, faults) has its own stream, so changing a fault rate leaves the traffic as is.
/// </summary>
internal sealed class SimRandom(int seed, int stream)
{
    private const string HexDigits = "0123456789abcdef";
    private const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private readonly Random _random = new(unchecked(seed * 1_000_003 + stream * 7919));

    public double NextDouble() => _random.NextDouble();

    public int Next(int maxExclusive) => _random.Next(maxExclusive);

    public int Next(int minInclusive, int maxExclusive) => _random.Next(minInclusive, maxExclusive);

    public bool Chance(double p) => p > 0 && _random.NextDouble() < p;

    public T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    public int PickWeighted(IReadOnlyList<double> weights)
    {
        var total = 0.0;
        for (var i = 0; i < weights.Count; i++) total += weights[i];
        var x = _random.NextDouble() * total;
        for (var i = 0; i < weights.Count; i++)
        {
            x -= weights[i];
            if (x < 0) return i;
        }
        return weights.Count - 1;
    }

    /// <summary>A log-normal draw: most values near <paramref name="median"/>, a long right tail.</summary>
    public double LogNormal(double median, double sigma)
    {
        // Box-Muller; 1 - u keeps the logarithm finite.
        var u1 = 1.0 - _random.NextDouble();
        var u2 = _random.NextDouble();
        var normal = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        return median * Math.Exp(sigma * normal);
    }

    /// <summary>A Poisson draw (Knuth; the means here are small).</summary>
    public int Poisson(double mean)
    {
        var limit = Math.Exp(-mean);
        var k = 0;
        var p = _random.NextDouble();
        while (p > limit && k < 1000)
        {
            k++;
            p *= _random.NextDouble();
        }
        return k;
    }

    public string Hex(int length) => Chars(HexDigits, length);

    /// <summary>Characters of <c>[A-Za-z0-9_-]</c>, the alphabet of WeChat openids.</summary>
    public string IdChars(int length) => Chars(IdAlphabet, length);

    /// <summary>A GUID-shaped id (8-4-4-4-12 hex) drawn from the seed, not from the machine.</summary>
    public string Guid()
    {
        Span<byte> bytes = stackalloc byte[16];
        _random.NextBytes(bytes);
        return new Guid(bytes).ToString("D");
    }

    private string Chars(string alphabet, int length)
    {
        return string.Create(length, (this, alphabet), static (span, state) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = state.alphabet[state.Item1._random.Next(state.alphabet.Length)];
        });
    }
}
