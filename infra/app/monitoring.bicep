// Log Analytics and workspace-based Application Insights. Local (instrumentation-key)
// authentication is off: telemetry is accepted only from Microsoft Entra identities that hold
// Monitoring Metrics Publisher on the component (the function app's identity, see rbac.bicep).

import { Tags } from '../types.bicep'

param logAnalyticsName string
param applicationInsightsName string
param location string
param tags Tags

@description('Days Log Analytics keeps data (30 to 730).')
@minValue(30)
@maxValue(730)
param retentionInDays int

@description('Daily ingestion cap of the workspace in GB; -1 for none.')
param dailyQuotaGb int

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    workspaceCapping: {
      dailyQuotaGb: dailyQuotaGb
    }
    features: {
      // No workspace shared keys: diagnostic settings and Application Insights do not need them.
      disableLocalAuth: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
    publicNetworkAccessForIngestion: 'Enabled'
    publicNetworkAccessForQuery: 'Enabled'
  }
}

output logAnalyticsWorkspaceId string = workspace.id
output applicationInsightsName string = applicationInsights.name
output applicationInsightsId string = applicationInsights.id
