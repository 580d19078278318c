// The success-metrics pipeline in one resource group: storage, the Flex Consumption function
// app and its identity, Key Vault, Log Analytics and Application Insights, role assignments,
// diagnostic settings and alerts. Deploy with
//   az deployment group create -g RG --parameters infra/main.dev.bicepparam
// (docs/deploy.md has the whole path from an empty subscription).
targetScope = 'resourceGroup'

import { Tags } from 'types.bicep'

// --- Naming -----------------------------------------------------------------------------------

@minLength(1)
@maxLength(24)
@description('Name of the environment (dev, prod, ...): part of every resource name and of the hash that makes globally unique names unique.')
param environmentName string

@description('Region of every resource. Flex Consumption is available in a subset of regions: az functionapp list-flexconsumption-locations.')
param location string = resourceGroup().location

@description('Tags added to every resource.')
param tags Tags = {}

// --- Storage ----------------------------------------------------------------------------------

@description('Replication of the storage account.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS'])
param storageSku string = 'Standard_LRS'

@description('Days after which the lifecycle rule deletes blobs under landing/ and rejected/.')
@minValue(1)
param expireLandingAndRejectedAfterDays int = 30

@description('Days a deleted blob or container stays restorable (soft delete).')
@minValue(1)
@maxValue(365)
param blobSoftDeleteRetentionDays int = 7

// --- Function app -----------------------------------------------------------------------------

@description('Memory of each Flex Consumption instance, in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Most instances Flex Consumption may scale out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('IANA time zone whose calendar days are the reporting days (Pipeline__ReportingTimeZone).')
param reportingTimeZone string = 'Asia/Shanghai'

@description('Platform commission on GMV as a decimal fraction (Pipeline__CommissionRate); a string because Bicep has no decimals.')
param commissionRate string = '0.006'

@description('User shards of the event store and the rollup (Pipeline__EventStoreShards). Changing it needs a full re-roll.')
@minValue(1)
@maxValue(256)
param eventStoreShards int = 16

@description('When the daily rollup runs: NCRONTAB with seconds, in UTC (Flex Consumption ignores WEBSITE_TIME_ZONE). The default, 16:30 UTC, is 00:30 in Asia/Shanghai.')
param rollupSchedule string = '0 30 16 * * *'

@description('Sustained events per second one source may send to the whole app (Pipeline__RateLimit__EventsPerSecond); over it, 429.')
@minValue(1)
param rateLimitEventsPerSecond int = 5000

@description('Events one source may send at once after being idle, for the whole app (Pipeline__RateLimit__Burst).')
@minValue(1)
param rateLimitBurst int = 20000

@description('Small-cell suppression for developer read keys (Pipeline__Query__MinimumCellUsers): rows computed from fewer users are withheld from them (docs/query.md); 0 turns it off.')
@minValue(0)
param minimumCellUsers int = 0

@description('When the landing sweeper runs: NCRONTAB with seconds, in UTC. It re-enqueues the claim check of every landing batch that was never processed.')
param sweepSchedule string = '0 */15 * * * *'

// --- Monitoring and alerts --------------------------------------------------------------------

@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Daily ingestion cap of Log Analytics in GB; -1 for none.')
param logDailyQuotaGb int = -1

@description('Email address that receives the alerts.')
param alertEmailAddress string

@description('Ingest 5xx rate (percent of requests over 15 minutes) above which the alert fires.')
@minValue(1)
@maxValue(100)
param ingest5xxThresholdPercent int = 5

@description('Fewest ingest requests in 15 minutes for the 5xx rate to count.')
@minValue(1)
param ingest5xxMinimumRequests int = 20

// --- Operator access --------------------------------------------------------------------------

@description('Optional object id of the operator (user or group) who sets the pseudonymisation key and issues ingest keys: az ad signed-in-user show --query id -o tsv. Empty for none.')
param operatorPrincipalId string = ''

@description('Kind of principal operatorPrincipalId is.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param operatorPrincipalType string = 'User'

// --- Names ------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var baseName = 'metrics-${environmentName}'
var names = {
  identity: 'id-${baseName}'
  storage: take('st${toLower(replace(environmentName, '-', ''))}${resourceToken}', 24)
  keyVault: take('kv-${take(environmentName, 6)}-${resourceToken}', 24)
  logAnalytics: 'log-${baseName}'
  applicationInsights: 'appi-${baseName}'
  plan: 'plan-${baseName}'
  functionApp: 'func-${baseName}-${resourceToken}'
}
var allTags = union(tags, { 'azd-env-name': environmentName, workload: 'success-metrics-pipeline' })
var deploymentContainerName = 'app-package'

// --- Resources --------------------------------------------------------------------------------

// The app's identity: user-assigned, so that roles can be granted before the app exists and
// survive re-creating it.
resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: names.identity
  location: location
  tags: allTags
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: allTags
    retentionInDays: logRetentionDays
    dailyQuotaGb: logDailyQuotaGb
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: allTags
    skuName: storageSku
    deploymentContainerName: deploymentContainerName
    expireLandingAndRejectedAfterDays: expireLandingAndRejectedAfterDays
    softDeleteRetentionDays: blobSoftDeleteRetentionDays
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyVault'
  params: {
    name: names.keyVault
    location: location
    tags: allTags
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

module rbac 'rbac.bicep' = {
  name: 'rbac'
  params: {
    appIdentityName: appIdentity.name
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
    storageAccountName: names.storage
    applicationInsightsName: names.applicationInsights
    keyVaultName: names.keyVault
  }
  dependsOn: [storage, monitoring, keyVault]
}

module functionApp 'app/functions.bicep' = {
  name: 'functionApp'
  params: {
    planName: names.plan
    appName: names.functionApp
    location: location
    tags: allTags
    identityId: appIdentity.id
    identityClientId: appIdentity.properties.clientId
    storageAccountName: names.storage
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: names.applicationInsights
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    keyVaultUri: keyVault.outputs.vaultUri
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    reportingTimeZone: reportingTimeZone
    commissionRate: commissionRate
    eventStoreShards: eventStoreShards
    rollupSchedule: rollupSchedule
    rateLimitEventsPerSecond: rateLimitEventsPerSecond
    rateLimitBurst: rateLimitBurst
    minimumCellUsers: minimumCellUsers
    sweepSchedule: sweepSchedule
  }
  // The host starts as soon as the app exists: let it find its storage, telemetry and roles.
  dependsOn: [rbac, storage]
}

module alerts 'alerts.bicep' = {
  name: 'alerts'
  params: {
    location: location
    tags: allTags
    namePrefix: baseName
    alertEmailAddress: alertEmailAddress
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsWorkspaceId
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    storageAccountName: storage.outputs.name
    ingest5xxThresholdPercent: ingest5xxThresholdPercent
    ingest5xxMinimumRequests: ingest5xxMinimumRequests
  }
}

// --- Outputs (names and endpoints only; nothing secret) ---------------------------------------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output INGEST_ENDPOINT string = 'https://${functionApp.outputs.defaultHostName}/api/v1/events'
output METRICS_ENDPOINT string = 'https://${functionApp.outputs.defaultHostName}/api/v1/metrics'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output PIPELINE_STORAGE_BLOB_SERVICE_URI string = storage.outputs.blobEndpoint
output PIPELINE_STORAGE_QUEUE_SERVICE_URI string = storage.outputs.queueEndpoint
output PIPELINE_STORAGE_TABLE_SERVICE_URI string = storage.outputs.tableEndpoint
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output APP_IDENTITY_CLIENT_ID string = appIdentity.properties.clientId
output ALERT_ACTION_GROUP_NAME string = alerts.outputs.actionGroupName
