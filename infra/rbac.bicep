// Role assignments, least privilege: one assignment per role the function app's identity
// really needs, each on the narrowest scope that works, each named with guid(scope, principal,
// role) so that a redeployment finds the same assignment. No Owner, Contributor or User Access
// Administrator anywhere.
//
// Why Storage Blob Data Owner (not Contributor) on the storage account: the account is the
// app's AzureWebJobsStorage and its Flex Consumption deployment storage as well as the
// pipeline's data account. The Functions host's identity-based AzureWebJobsStorage connection
// is documented to need Storage Blob Data Owner (the host manages its own containers and blob
// leases: timer singleton locks, host keys), and the platform reads the app package from the
// deployment container with the same identity. Owner is a superset of Contributor, so the
// pipeline's blob access (landing, events, state, exports, rejected) needs no second role.

@description('Name of the function app\'s user-assigned identity.')
param appIdentityName string

@description('Optional principal id of the operator (a person or group): gets what the CLI needs to issue ingest keys and what is needed to set the pseudonymisation key. Empty for none.')
param operatorPrincipalId string

@allowed(['User', 'Group', 'ServicePrincipal'])
param operatorPrincipalType string

param storageAccountName string
param applicationInsightsName string
param keyVaultName string

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: appIdentityName
}

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
}

// --- The function app ---------------------------------------------------------------------

resource appBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appIdentity.id, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'Functions host storage (AzureWebJobsStorage), Flex deployment package, pipeline blobs.'
  }
}

resource appQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appIdentity.id, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'Processing and inbound queues, and their poison queues.'
  }
}

resource appTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appIdentity.id, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'Metric tables, ingest keys and sources, event ids, rollup ledger.'
  }
}

resource appMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, appIdentity.id, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'Telemetry to Application Insights, whose local authentication is off.'
  }
}

resource appSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appIdentity.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: appIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    description: 'Key Vault reference to the pseudonymisation key.'
  }
}

// --- The operator (optional) --------------------------------------------------------------
// The CLI that issues ingest keys provisions the containers, queues and tables it finds missing
// before it writes, so it needs data-plane write on all three services; setting the secret
// needs Secrets Officer.

var operatorStorageRoles = [
  roles.storageBlobDataContributor
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

resource operatorStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in operatorStorageRoles: if (!empty(operatorPrincipalId)) {
    name: guid(storage.id, operatorPrincipalId, role)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: operatorPrincipalId
      principalType: operatorPrincipalType
    }
  }
]

resource operatorSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(vault.id, operatorPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}
