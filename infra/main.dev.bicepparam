// Development: smallest footprint, short retention. Deploy with
//   az deployment group create -g rg-metrics-dev --parameters infra/main.dev.bicepparam \
//     --parameters alertEmailAddress=you@example.com operatorPrincipalId=$(az ad signed-in-user show --query id -o tsv)
using 'main.bicep'

param environmentName = 'dev'
param storageSku = 'Standard_LRS'
param expireLandingAndRejectedAfterDays = 7
param blobSoftDeleteRetentionDays = 7
param instanceMemoryMB = 2048
param maximumInstanceCount = 10
param reportingTimeZone = 'Asia/Shanghai'
param commissionRate = '0.006'
param eventStoreShards = 16
param rollupSchedule = '0 30 16 * * *'
param logRetentionDays = 30
param logDailyQuotaGb = 1
param alertEmailAddress = readEnvironmentVariable('PIPELINE_ALERT_EMAIL', 'pipeline-dev-alerts@example.com')
param ingest5xxThresholdPercent = 10
param ingest5xxMinimumRequests = 20
param operatorPrincipalId = readEnvironmentVariable('PIPELINE_OPERATOR_PRINCIPAL_ID', '')
param tags = {
  environment: 'dev'
}
