using System.CommandLine;
using Pipeline.Core.Catalog;

namespace Pipeline.Local.Cli;

internal static class DictionaryCommand
{
    public static Command Create()
    {
        var output = new Option<string?>("--out") { Description = "File to write (docs/metrics.md); standard output when omitted." };
        var command = new Command("dictionary", "Print the analysts' metric dictionary, generated from the metric catalog.") { output };
        command.SetAction(async (parse, ct) =>
        {
            var text = MetricDictionary.Render();
            if (parse.GetValue(output) is { } path) await File.WriteAllTextAsync(path, text, ct);
            else Console.Write(text);
            return 0;
        });
        return command;
    }
}
