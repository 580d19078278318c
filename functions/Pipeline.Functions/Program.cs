using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Hosting;

// The Functions host of the pipeline: every trigger in Triggers/ hands over to the same
// entry points the local runner uses (Pipeline.Hosting), registered here.
HostCulture.Apply(); // ISO dates in logs whatever the machine's locale
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services
    .AddApplicationInsightsTelemetryWorkerService()
    .ConfigureFunctionsApplicationInsights();
builder.Services.AddPipeline(builder.Configuration);
builder.Build().Run();
