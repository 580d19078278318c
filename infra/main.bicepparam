// Parameters for the Azure Developer CLI (azd provision / azd up), which looks for
// infra/main.bicepparam and exports its environment's values (AZURE_ENV_NAME,
// AZURE_PRINCIPAL_ID, and anything set with `azd env set`) as environment variables.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'dev')
param alertEmailAddress = readEnvironmentVariable('PIPELINE_ALERT_EMAIL', 'pipeline-alerts@example.com')
param operatorPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')
param maximumInstanceCount = int(readEnvironmentVariable('PIPELINE_MAXIMUM_INSTANCE_COUNT', '100'))
