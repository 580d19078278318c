// The pipeline's storage account. One account serves three roles:
//   - AzureWebJobsStorage of the Functions host (timer singleton leases, host keys),
//   - the Flex Consumption deployment container (the app package),
//   - the pipeline's own data: landing/events/state/exports/rejected blobs, the queues, the tables.
// Only Microsoft Entra ID reaches it: shared keys (and so SAS and key connection strings) are off.

import { Tags } from '../types.bicep'

@description('Name of the storage account (3-24 lowercase letters and digits, globally unique).')
@minLength(3)
@maxLength(24)
param name string

param location string
param tags Tags

@description('Replication of the account.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS'])
param skuName string

@description('Blob container that holds the Flex Consumption app package.')
param deploymentContainerName string

@description('Days after which blobs under landing/ and rejected/ are deleted by the lifecycle rule.')
@minValue(1)
param expireLandingAndRejectedAfterDays int

@description('Days a deleted blob or container can be restored (soft delete).')
@minValue(1)
@maxValue(365)
param softDeleteRetentionDays int

@description('Log Analytics workspace that receives the storage logs and metrics.')
param logAnalyticsWorkspaceId string

var pipelineContainers = ['landing', 'events', 'state', 'exports', 'rejected']
var queues = ['events-processing', 'events-inbound', 'events-processing-poison', 'events-inbound-poison', 'rollup-shards', 'rollup-days', 'rollup-shards-poison', 'rollup-days-poison']
var tables = ['DailyMetrics', 'ProgramDailyMetrics', 'IngestKeys', 'IngestSources', 'RollupLedger', 'RollupRuns', 'IngestReceipts', 'Restatements']

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      // Flex Consumption without a virtual network reaches storage over its public endpoint;
      // identity (RBAC), not the network, is the boundary here.
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: false
      services: {
        blob: { enabled: true, keyType: 'Account' }
        file: { enabled: true, keyType: 'Account' }
        // Account-scoped keys so that queues and tables are encrypted like blobs.
        queue: { enabled: true, keyType: 'Account' }
        table: { enabled: true, keyType: 'Account' }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = [
  for container in concat(pipelineContainers, [deploymentContainerName]): {
    parent: blobService
    name: container
    properties: {
      publicAccess: 'None'
    }
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource queueResources 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' = [
  for queue in queues: {
    parent: queueService
    name: queue
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' = {
  parent: account
  name: 'default'
}

resource tableResources 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' = [
  for table in tables: {
    parent: tableService
    name: table
  }
]

// Landing blobs are claim checks that the processor has copied into the event store, and
// rejected blobs are diagnostics: neither is needed for long.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-01-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'expire-landing-and-rejected'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              prefixMatch: ['landing/', 'rejected/']
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: expireLandingAndRejectedAfterDays
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [containers]
}

// Diagnostics: transaction metrics of the account and of every service, and the queue
// service's write log, which the poison-queue alert reads (StorageQueueLogs). Blob and table
// data-plane logs are not collected: the processor writes about 17 blobs and 200 table entities
// per batch, so at 100 million events a day those logs alone would cost thousands a month in
// Log Analytics (docs/deploy.md, cost estimate); add them for an investigation when needed.
var transactionMetrics = [
  { category: 'Transaction', enabled: true }
]

resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: account
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: transactionMetrics
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: transactionMetrics
  }
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      { category: 'StorageWrite', enabled: true }
    ]
    metrics: transactionMetrics
  }
}

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: tableService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: transactionMetrics
  }
}

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
