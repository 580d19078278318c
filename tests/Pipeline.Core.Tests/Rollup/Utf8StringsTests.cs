using System.Text;
using Pipeline.Core.Rollup;

namespace Pipeline.Core.Tests.Rollup;

/// <summary>
/// The shard-day's string table interned a block's dictionary at a time (<see cref="Utf8Strings.HashAndFetch"/> for
/// every entry, then <see cref="Utf8Strings.Intern(ReadOnlySpan{byte}, uint)"/>) gives the ids that one value at a
/// time does, including repeats within one batch, ill-formed UTF-8 and the table's growth in the middle of a batch.
/// </summary>
public sealed class Utf8StringsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Interning_a_batch_after_hashing_it_gives_the_ids_of_one_at_a_time(int seed)
    {
        var random = new Random(seed);
        byte[] Value() => random.Next(12) switch
        {
            0 => [(byte)'x', 0xFF],                        // ill-formed: an alias of "x\uFFFD"
            1 => Encoding.UTF8.GetBytes("x\uFFFD"),
            2 => [],
            3 => Encoding.UTF8.GetBytes(new string('l', 40 + random.Next(30)) + random.Next(50)), // longer than a slot holds inline
            _ => Encoding.UTF8.GetBytes($"v{random.Next(3_000)}-中"),
        };
        var one = new Utf8Strings();
        var batched = new Utf8Strings();
        for (var block = 0; block < 300; block++)
        {
            var values = Enumerable.Range(0, random.Next(1, 120)).Select(_ => Value()).ToList(); // repeats within a batch, too
            var hashes = values.Select(v => batched.HashAndFetch(v)).ToList();
            for (var i = 0; i < values.Count; i++)
            {
                var id = batched.Intern(values[i], hashes[i]);
                Assert.Equal(one.Intern(values[i]), id);
                Assert.Equal(Encoding.UTF8.GetString(values[i]), batched.Get(id));
            }
            Assert.Equal(one.Count, batched.Count);
        }
        Assert.True(batched.Count > 2_000, "the table grew during the batches");
        Assert.Equal(0, batched.Intern([], batched.HashAndFetch([])));
    }
}
