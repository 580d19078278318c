using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Hosting;
using Pipeline.Hosting.Entries;
using Pipeline.Storage;

namespace Pipeline.Integration.Tests.Configuration;

/// <summary>
/// The Functions app's triggers bind to the handlers they call: names, queues, connections,
/// schedules and routes agree with the entry classes of Pipeline.Hosting and with
/// <see cref="StorageNames"/>, and every trigger class can be built from the services
/// <c>Program.cs</c> registers (<see cref="PipelineServiceCollectionExtensions.AddPipeline"/>).
/// Reflection over the Pipeline.Functions assembly only: no Functions host, no storage, no network.
/// </summary>
public sealed class FunctionTriggerTests
{
    /// <summary>The app setting holding the storage connection, as the queue triggers name it.</summary>
    private const string StorageConnection = "PipelineStorage";

    /// <summary>The app setting each timer-driven entry's schedule comes from.</summary>
    private static readonly Dictionary<Type, string> ScheduleSettings = new()
    {
        [typeof(RollupEntry)] = RollupSchedule.SettingName,
        [typeof(SweepEntry)] = SweepSchedule.SettingName,
    };

    private static readonly Assembly FunctionsApp = typeof(Pipeline.Functions.Triggers.ProcessBatch).Assembly;

    private sealed record Trigger(Type Class, MethodInfo Method, string Name, TriggerBindingAttribute Binding);

    /// <summary>Every public <c>[Function]</c> method of the app with its (single) trigger binding.</summary>
    private static List<Trigger> Triggers()
    {
        var triggers = new List<Trigger>();
        foreach (var type in FunctionsApp.GetTypes())
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if (method.GetCustomAttribute<FunctionAttribute>() is not { } function) continue;
                var bindings = method.GetParameters()
                    .SelectMany(p => p.GetCustomAttributes().OfType<TriggerBindingAttribute>())
                    .ToList();
                Assert.True(bindings.Count == 1, $"{type.Name}.{method.Name} has {bindings.Count} trigger bindings; a function has exactly one.");
                triggers.Add(new Trigger(type, method, function.Name, bindings[0]));
            }
        Assert.NotEmpty(triggers);
        return triggers;
    }

    /// <summary>The constructor parameter types of a trigger class (it has exactly one public constructor).</summary>
    private static Type[] Dependencies(Type trigger)
    {
        var constructors = trigger.GetConstructors();
        Assert.True(constructors.Length == 1, $"{trigger.Name} has {constructors.Length} public constructors; expected one.");
        return constructors[0].GetParameters().Select(p => p.ParameterType).ToArray();
    }

    /// <summary>The value of the public <c>const string</c> named <paramref name="constant"/> on the one dependency that declares it.</summary>
    private static (Type Entry, string Value) EntryConstant(Type trigger, string constant)
    {
        var declaring = Dependencies(trigger)
            .Select(t => (Type: t, Field: t.GetField(constant, BindingFlags.Public | BindingFlags.Static)))
            .Where(d => d.Field is { IsLiteral: true } && d.Field.FieldType == typeof(string))
            .ToList();
        Assert.True(declaring.Count == 1,
            $"{trigger.Name}'s constructor takes {declaring.Count} entries with a {constant} constant ({string.Join(", ", declaring.Select(d => d.Type.Name))}); expected exactly one.");
        return (declaring[0].Type, (string)declaring[0].Field!.GetRawConstantValue()!);
    }

    private static bool IsPoison(string queue) => queue.EndsWith(StorageNames.PoisonSuffix, StringComparison.Ordinal);

    [Fact]
    public void Every_function_is_named_after_its_class()
    {
        foreach (var trigger in Triggers())
            Assert.True(trigger.Name == trigger.Class.Name,
                $"{trigger.Class.FullName}.{trigger.Method.Name} is the function '{trigger.Name}'; the function name must be the class name.");
    }

    [Fact]
    public void Queue_triggers_listen_on_a_storage_queue_that_is_their_entrys_queue()
    {
        var queueTriggers = Triggers().Where(t => t.Binding is QueueTriggerAttribute).ToList();
        Assert.NotEmpty(queueTriggers);
        foreach (var trigger in queueTriggers)
        {
            var binding = (QueueTriggerAttribute)trigger.Binding;
            Assert.True(StorageNames.Queues.Contains(binding.QueueName),
                $"{trigger.Name} listens on '{binding.QueueName}', which is not a queue of StorageNames.Queues ({string.Join(", ", StorageNames.Queues)}).");
            Assert.False(IsPoison(binding.QueueName), $"{trigger.Name} listens on the poison queue '{binding.QueueName}'.");
            Assert.True(binding.Connection == StorageConnection,
                $"{trigger.Name}'s queue trigger reads the connection '{binding.Connection}'; expected '{StorageConnection}'.");

            var (entry, queue) = EntryConstant(trigger.Class, "QueueName");
            Assert.True(binding.QueueName == queue,
                $"{trigger.Name} listens on '{binding.QueueName}' but hands messages to {entry.Name}, whose QueueName is '{queue}'.");
        }
    }

    [Fact]
    public void Timer_triggers_run_on_their_entrys_schedule_app_setting()
    {
        var timerTriggers = Triggers().Where(t => t.Binding is TimerTriggerAttribute).ToList();
        Assert.NotEmpty(timerTriggers);
        foreach (var trigger in timerTriggers)
        {
            var binding = (TimerTriggerAttribute)trigger.Binding;
            var entries = Dependencies(trigger.Class).Where(ScheduleSettings.ContainsKey).ToList();
            Assert.True(entries.Count == 1,
                $"{trigger.Name} is a timer trigger whose constructor takes {entries.Count} scheduled entries ({string.Join(", ", entries.Select(e => e.Name))}); " +
                $"expected one of {string.Join(", ", ScheduleSettings.Keys.Select(k => k.Name))} (a new scheduled entry needs its schedule setting added here).");
            var expected = $"%{ScheduleSettings[entries[0]]}%";
            Assert.True(binding.Schedule == expected,
                $"{trigger.Name} runs on '{binding.Schedule}'; {entries[0].Name} runs on the app setting expression '{expected}'.");
            Assert.False(binding.RunOnStartup, $"{trigger.Name} runs on start-up; it should only run on its schedule.");
        }
    }

    [Fact]
    public void Http_triggers_use_their_endpoints_route()
    {
        var httpTriggers = Triggers().Where(t => t.Binding is HttpTriggerAttribute).ToList();
        Assert.NotEmpty(httpTriggers);
        foreach (var trigger in httpTriggers)
        {
            var binding = (HttpTriggerAttribute)trigger.Binding;
            var (endpoint, route) = EntryConstant(trigger.Class, "Route");
            Assert.True(binding.Route == route,
                $"{trigger.Name} is routed at '{binding.Route}' but calls {endpoint.Name}, whose Route is '{route}'.");
        }
    }

    /// <summary>
    /// The app's HTTP API: function, method, and who may call it. All anonymous at the host: ingest checks its
    /// ingest key, the read endpoints their read key (which decides what the caller sees; a function key would
    /// see everything), and the catalog, the OpenAPI document and the dashboard's page (which holds no data) are public.
    /// </summary>
    private static readonly Dictionary<string, (string Method, AuthorizationLevel Level, Type Endpoint)> HttpApi = new()
    {
        [nameof(Pipeline.Functions.Triggers.IngestEvents)] = ("post", AuthorizationLevel.Anonymous, typeof(Pipeline.Hosting.Endpoints.Http.IngestEndpoint)),
        [nameof(Pipeline.Functions.Triggers.QueryMetrics)] = ("get", AuthorizationLevel.Anonymous, typeof(Pipeline.Hosting.Endpoints.Metrics.MetricsQueryEndpoint)),
        [nameof(Pipeline.Functions.Triggers.QueryRestatements)] = ("get", AuthorizationLevel.Anonymous, typeof(Pipeline.Hosting.Endpoints.Metrics.RestatementsEndpoint)),
        [nameof(Pipeline.Functions.Triggers.QueryCatalog)] = ("get", AuthorizationLevel.Anonymous, typeof(Pipeline.Hosting.Endpoints.Metrics.CatalogEndpoint)),
        [nameof(Pipeline.Functions.Triggers.QueryOpenApi)] = ("get", AuthorizationLevel.Anonymous, typeof(Pipeline.Hosting.Endpoints.OpenApi.OpenApiEndpoint)),
        [nameof(Pipeline.Functions.Triggers.Dashboard)] = ("get", AuthorizationLevel.Anonymous, typeof(Pipeline.Hosting.Endpoints.Dashboard.DashboardEndpoint)),
    };

    [Fact]
    public void Http_triggers_are_the_apis_endpoints_with_their_method_and_authorisation()
    {
        var httpTriggers = Triggers().Where(t => t.Binding is HttpTriggerAttribute).ToDictionary(t => t.Name);
        Assert.Equal(HttpApi.Keys.Order(StringComparer.Ordinal), httpTriggers.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, (method, level, endpoint)) in HttpApi)
        {
            var trigger = httpTriggers[name];
            var binding = (HttpTriggerAttribute)trigger.Binding;
            Assert.True(binding.Methods is [var only] && string.Equals(only, method, StringComparison.OrdinalIgnoreCase),
                $"{name} answers {string.Join(", ", binding.Methods ?? [])}; expected only {method}.");
            Assert.True(binding.AuthLevel == level, $"{name} is {binding.AuthLevel}; expected {level}.");
            var (entry, _) = EntryConstant(trigger.Class, "Route");
            Assert.True(entry == endpoint, $"{name} calls {entry.Name}; expected {endpoint.Name}.");
        }
    }

    [Fact]
    public void Every_trigger_is_a_queue_timer_or_http_trigger()
    {
        foreach (var trigger in Triggers())
            Assert.True(trigger.Binding is QueueTriggerAttribute or TimerTriggerAttribute or HttpTriggerAttribute,
                $"{trigger.Name} has a {trigger.Binding.GetType().Name}, which these tests do not check; add its checks here.");
    }

    [Fact]
    public void Every_storage_queue_except_the_poison_queues_has_exactly_one_trigger()
    {
        var listened = Triggers()
            .Where(t => t.Binding is QueueTriggerAttribute)
            .GroupBy(t => ((QueueTriggerAttribute)t.Binding).QueueName)
            .ToDictionary(g => g.Key, g => g.Select(t => t.Name).ToList());

        foreach (var queue in StorageNames.Queues.Where(q => !IsPoison(q)))
        {
            var triggers = listened.GetValueOrDefault(queue) ?? [];
            Assert.True(triggers.Count == 1,
                $"The queue '{queue}' has {triggers.Count} triggers ({string.Join(", ", triggers)}); every queue but the poison queues has exactly one.");
        }
        var unknown = listened.Keys.Where(q => !StorageNames.Queues.Contains(q)).ToList();
        Assert.True(unknown.Count == 0, $"Triggers listen on queues that StorageNames.Queues does not list: {string.Join(", ", unknown)}.");
    }

    [Fact]
    public void Every_trigger_class_is_built_from_the_services_Program_registers()
    {
        var settings = new Dictionary<string, string?>
        {
            [StorageConnection] = "UseDevelopmentStorage=true",
            ["Pipeline:PseudonymisationKey"] = "a-test-key-that-is-long-enough-0123456789",
        };
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddPipeline(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        // The worker builds a function's class per invocation in the invocation's scope.
        using var scope = provider.CreateScope();

        var failures = new List<string>();
        foreach (var type in Triggers().Select(t => t.Class).Distinct())
        {
            try
            {
                Assert.IsType(type, ActivatorUtilities.CreateInstance(scope.ServiceProvider, type));
            }
            catch (Exception e) when (e is InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException)
            {
                failures.Add($"{type.Name}: {e.Message}");
            }
        }
        Assert.True(failures.Count == 0, "Trigger classes the registered services cannot build:\n" + string.Join("\n", failures));
    }
}
