using System.CommandLine;
using Pipeline.Hosting;
using Pipeline.Local.Cli;

// The pipeline on one machine: `serve` runs the same handlers as the Functions app on Kestrel,
// with queue listeners and the rollup and sweeper schedules, against Azurite; the other verbs operate it.
HostCulture.Apply(); // ISO dates in logs and CLI output whatever the machine's locale
var root = new RootCommand("Mini-program ecosystem success-metrics pipeline: local runner and operator CLI.")
{
    ServeCommand.Create(),
    KeysCommand.Create(),
    SimulateCommand.Create(),
    ImportCommand.Create(),
    RollupCommand.Create(),
    SweepCommand.Create(),
    ExportCommand.Create(),
    QueryCommand.Create(),
    DemoCommand.Create(),
    DictionaryCommand.Create(),
    PoisonCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
