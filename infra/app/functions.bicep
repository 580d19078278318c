// The Flex Consumption plan and the function app (.NET 10 isolated worker). Every connection
// uses the app's user-assigned managed identity: host storage, the pipeline's storage, Key Vault
// and Application Insights. No setting holds a key.

import { Tags } from '../types.bicep'

param planName string
param appName string
param location string
param tags Tags

@description('Resource id of the user-assigned identity of the app.')
param identityId string

@description('Client id of the user-assigned identity of the app.')
param identityClientId string

param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string
param logAnalyticsWorkspaceId string

@description('Key Vault URI (https://NAME.vault.azure.net/) that holds the pseudonymisation key.')
param keyVaultUri string

@allowed([512, 2048, 4096])
param instanceMemoryMB int

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

param reportingTimeZone string
param commissionRate string
param eventStoreShards int
param rollupSchedule string
param sweepSchedule string

@minValue(1)
param rateLimitEventsPerSecond int
@minValue(1)
param rateLimitBurst int
@minValue(0)
param minimumCellUsers int

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

// App settings, as name/value pairs so that the compiled template shows each one.
var appSettings = [
  // Host storage (timer leases, host keys): identity-based, by account name.
  { name: 'AzureWebJobsStorage__accountName', value: storage.name }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identityClientId }

  // The pipeline's own connection ("PipelineStorage" in the triggers and the storage adapters).
  { name: 'PipelineStorage__blobServiceUri', value: storage.properties.primaryEndpoints.blob }
  { name: 'PipelineStorage__queueServiceUri', value: storage.properties.primaryEndpoints.queue }
  { name: 'PipelineStorage__tableServiceUri', value: storage.properties.primaryEndpoints.table }
  { name: 'PipelineStorage__credential', value: 'managedidentity' }
  { name: 'PipelineStorage__clientId', value: identityClientId }

  // Application Insights with local authentication off: the connection string only locates the
  // resource (it holds no credential); the identity authenticates.
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsights.properties.ConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD;ClientId=${identityClientId}' }

  // Pipeline settings (section "Pipeline", validated at start-up).
  { name: 'Pipeline__ReportingTimeZone', value: reportingTimeZone }
  { name: 'Pipeline__CommissionRate', value: commissionRate }
  { name: 'Pipeline__EventStoreShards', value: string(eventStoreShards) }
  { name: 'Pipeline__PseudonymisationKey', value: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/pseudonymisation-key)' }

  // Per-source ingest rate limit for the whole app; each instance enforces 1/MaxInstances of it,
  // and MaxInstances is the plan's scale-out ceiling, so the sum never exceeds the limit (docs/security.md).
  { name: 'Pipeline__RateLimit__EventsPerSecond', value: string(rateLimitEventsPerSecond) }
  { name: 'Pipeline__RateLimit__Burst', value: string(rateLimitBurst) }
  { name: 'Pipeline__MaxInstances', value: string(maximumInstanceCount) }
  { name: 'Pipeline__Query__MinimumCellUsers', value: string(minimumCellUsers) }

  // NCRONTAB with seconds, in UTC: Flex Consumption ignores WEBSITE_TIME_ZONE.
  { name: 'RollupSchedule', value: rollupSchedule }
  { name: 'SweepSchedule', value: sweepSchedule }
]

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity (the default would be a
    // system-assigned identity, which this app does not have).
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: appSettings
    }
  }
}

resource siteDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: site
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      { category: 'FunctionAppLogs', enabled: true }
    ]
    metrics: [
      { category: 'AllMetrics', enabled: true }
    ]
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
