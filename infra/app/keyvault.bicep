// The Key Vault that holds the pseudonymisation key (secret 'pseudonymisation-key'), read by the
// function app through a Key Vault reference. RBAC mode (no access policies) and purge
// protection: a deleted vault or secret stays recoverable for the retention period, because
// losing the key would make every user look new.
//
// The secret itself is not created here: a template would need the value as a parameter and a
// redeployment could overwrite it. The operator sets it once (docs/deploy.md).

import { Tags } from '../types.bicep'

param name string
param location string
param tags Tags

@description('Log Analytics workspace that receives the vault\'s audit log.')
param logAnalyticsWorkspaceId string

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForTemplateDeployment: false
    enabledForDiskEncryption: false
    // Key Vault references of Flex Consumption apps resolve over the public endpoint; access
    // is governed by RBAC (Key Vault Secrets User for the app only).
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      { categoryGroup: 'audit', enabled: true }
    ]
  }
}

output name string = vault.name
output vaultUri string = vault.properties.vaultUri
