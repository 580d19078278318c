namespace Pipeline.Core.Tests.Ingest;

/// <summary>
/// The validator's answer to every named prop, probed at and past each rule's edges, is the one recorded
/// before the prop table (<c>Events/EventProps.cs</c>) existed: codes, messages and the values stored
/// (<c>NamedProps.golden.txt</c>, written by <see cref="NamedPropsTranscript"/> on the branch point).
/// A deliberate change of the contract updates the golden file with it.
/// </summary>
public sealed class NamedPropsGoldenTests
{
    [Fact]
    public void Every_named_prop_is_validated_and_stored_as_recorded()
    {
        using var stream = typeof(NamedPropsGoldenTests).Assembly.GetManifestResourceStream("NamedProps.golden.txt")
            ?? throw new InvalidOperationException("The embedded resource NamedProps.golden.txt is missing.");
        var expected = new StreamReader(stream).ReadToEnd().Replace("\r\n", "\n").Split('\n');
        var actual = NamedPropsTranscript.Build().Split('\n');
        for (var i = 0; i < Math.Min(expected.Length, actual.Length); i++)
            Assert.True(expected[i] == actual[i], $"Line {i + 1} differs.\nexpected: {expected[i]}\nactual:   {actual[i]}");
        Assert.Equal(expected.Length, actual.Length);
    }
}
