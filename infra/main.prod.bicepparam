// Production: zone-redundant storage, room to scale out, longer retention. Deploy with
//   PIPELINE_ALERT_EMAIL=oncall@example.com \
//   az deployment group create -g rg-metrics-prod --parameters infra/main.prod.bicepparam
using 'main.bicep'

param environmentName = 'prod'
param storageSku = 'Standard_ZRS'
param expireLandingAndRejectedAfterDays = 30
param blobSoftDeleteRetentionDays = 14
param instanceMemoryMB = 2048
param maximumInstanceCount = 100
param reportingTimeZone = 'Asia/Shanghai'
param commissionRate = '0.006'
param eventStoreShards = 16
param rollupSchedule = '0 30 16 * * *'
param logRetentionDays = 90
param logDailyQuotaGb = -1
param alertEmailAddress = readEnvironmentVariable('PIPELINE_ALERT_EMAIL', 'pipeline-alerts@example.com')
param ingest5xxThresholdPercent = 5
param ingest5xxMinimumRequests = 20
param operatorPrincipalId = readEnvironmentVariable('PIPELINE_OPERATOR_PRINCIPAL_ID', '')
param operatorPrincipalType = 'Group'
param tags = {
  environment: 'prod'
}
