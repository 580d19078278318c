using System.Collections.Frozen;
using System.Text.Json;

namespace Pipeline.Core.Scenes;

/// <summary>
/// WeChat entry-scene codes to the pipeline's channels and to WeChat's numbered access sources.
/// The mapping is data (<c>Scenes/scenes.json</c>, embedded) so it can be updated without
/// touching logic; a code not listed is channel <c>other</c>, source 10.
/// </summary>
public sealed class SceneTable
{
    /// <summary>The channel of a session that has no <c>session_start</c>.</summary>
    public const string UnknownChannel = "unknown";

    private readonly FrozenDictionary<int, string> _channelByScene;
    private readonly FrozenDictionary<int, int> _sourceByScene;

    private SceneTable(FrozenDictionary<int, string> channels, FrozenDictionary<int, int> sources, string defaultChannel, int defaultSource, IReadOnlyList<string> channelNames, IReadOnlyList<int> sourceNumbers)
    {
        _channelByScene = channels;
        _sourceByScene = sources;
        DefaultChannel = defaultChannel;
        DefaultSource = defaultSource;
        ChannelNames = channelNames;
        SourceNumbers = sourceNumbers;
    }

    /// <summary>The table shipped with the pipeline.</summary>
    public static SceneTable Default { get; } = LoadEmbedded();

    public string DefaultChannel { get; }

    public int DefaultSource { get; }

    /// <summary>Every channel name of the table, including the default (but not <see cref="UnknownChannel"/>).</summary>
    public IReadOnlyList<string> ChannelNames { get; }

    /// <summary>Every access-source number of the table.</summary>
    public IReadOnlyList<int> SourceNumbers { get; }

    public string ChannelOf(int scene) => _channelByScene.TryGetValue(scene, out var channel) ? channel : DefaultChannel;

    public int SourceOf(int scene) => _sourceByScene.TryGetValue(scene, out var source) ? source : DefaultSource;

    /// <summary>Parses a scene table document (the format of <c>scenes.json</c>); throws naming what is wrong.</summary>
    public static SceneTable Parse(Stream json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var defaultChannel = root.GetProperty("defaultChannel").GetString() ?? throw new InvalidDataException("scenes.json: defaultChannel is null.");
        var defaultSource = root.GetProperty("defaultSource").GetInt32();

        var channels = new Dictionary<int, string>();
        var channelNames = new List<string>();
        foreach (var channel in root.GetProperty("channels").EnumerateObject())
        {
            channelNames.Add(channel.Name);
            foreach (var code in channel.Value.EnumerateArray())
                if (!channels.TryAdd(code.GetInt32(), channel.Name))
                    throw new InvalidDataException($"scenes.json: scene {code.GetInt32()} is in two channels ({channels[code.GetInt32()]} and {channel.Name}).");
        }
        if (!channelNames.Contains(defaultChannel)) channelNames.Add(defaultChannel);

        var sources = new Dictionary<int, int>();
        var sourceNumbers = new List<int>();
        foreach (var source in root.GetProperty("sources").EnumerateArray())
        {
            var number = source.GetProperty("source").GetInt32();
            sourceNumbers.Add(number);
            foreach (var code in source.GetProperty("scenes").EnumerateArray())
                if (!sources.TryAdd(code.GetInt32(), number))
                    throw new InvalidDataException($"scenes.json: scene {code.GetInt32()} is in two access sources ({sources[code.GetInt32()]} and {number}).");
        }

        return new SceneTable(channels.ToFrozenDictionary(), sources.ToFrozenDictionary(), defaultChannel, defaultSource, channelNames, sourceNumbers);
    }

    private static SceneTable LoadEmbedded()
    {
        using var stream = typeof(SceneTable).Assembly.GetManifestResourceStream("Pipeline.Core.Scenes.scenes.json")
            ?? throw new InvalidOperationException("The embedded scene table Pipeline.Core.Scenes.scenes.json is missing from the build.");
        return Parse(stream);
    }
}
