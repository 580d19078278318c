// Alert rules and the action group that mails the operator. All three are log search alerts
// (scheduledQueryRules): Azure Monitor has no per-queue message count metric (QueueMessageCount
// is one number for the whole account, sampled hourly), so "a poison queue got a message" is
// read from the queue service's write log instead. docs/deploy.md says what to do when each
// alert fires.

import { Tags } from 'types.bicep'

param location string
param tags Tags

@description('Name prefix of the alert rules and the action group.')
param namePrefix string

@description('Email address that receives the alerts.')
param alertEmailAddress string

@description('Resource id of the Log Analytics workspace (StorageQueueLogs).')
param logAnalyticsWorkspaceId string

@description('Resource id of the Application Insights component (requests).')
param applicationInsightsId string

@description('Name of the pipeline storage account (filters StorageQueueLogs to this account).')
param storageAccountName string

@description('Ingest 5xx rate, in percent of ingest requests over 15 minutes, above which the alert fires.')
@minValue(1)
@maxValue(100)
param ingest5xxThresholdPercent int

@description('Fewest ingest requests in 15 minutes for the 5xx rate to count (one failure in two requests is not an outage).')
@minValue(1)
param ingest5xxMinimumRequests int

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${namePrefix}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'pipeline'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmailAddress
        useCommonAlertSchema: true
      }
    ]
  }
}

// 1. A message was moved to a poison queue. The Functions host moves a message to
//    '<queue>-poison' after maxDequeueCount failed tries (host.json: 5) with a PutMessage, which
//    the queue service's StorageWrite log records. Event-based: it fires once per evaluation in
//    which messages arrived, one alert per queue, and is not auto-resolved; the operator drains
//    the poison queue (docs/deploy.md).
resource poisonQueueAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-${namePrefix}-poison-queue'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Pipeline: message moved to a poison queue'
    description: 'A queue message failed maxDequeueCount times and was moved to a poison queue (events-processing-poison, events-inbound-poison, rollup-shards-poison or rollup-days-poison). Inspect it, fix the cause, then re-queue or delete it.'
    severity: 2
    enabled: true
    scopes: [logAnalyticsWorkspaceId]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: format(
            '''
StorageQueueLogs
| where AccountName == "{0}"
| where OperationName == "PutMessage" and StatusText == "Success"
| extend Queue = extract(@"^/[^/]+/([^/?]+)", 1, ObjectKey)
| where Queue endswith "-poison"
| summarize Moved = count() by Queue
''',
            storageAccountName
          )
          timeAggregation: 'Total'
          metricMeasureColumn: 'Moved'
          dimensions: [
            {
              name: 'Queue'
              operator: 'Include'
              values: ['*']
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: false
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}

// 2. The ingest endpoint answers 5xx to more than the threshold share of requests. Requests are
//    excluded from sampling in host.json, so the counts are exact.
resource ingest5xxAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-${namePrefix}-ingest-5xx'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Pipeline: ingest 5xx rate above ${ingest5xxThresholdPercent}%'
    description: 'POST /api/v1/events answered 5xx to more than ${ingest5xxThresholdPercent}% of at least ${ingest5xxMinimumRequests} requests in 15 minutes. SDKs retry, but accepted events are at risk if this lasts.'
    severity: 1
    enabled: true
    scopes: [applicationInsightsId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: format(
            '''
requests
| where operation_Name == "IngestEvents"
| summarize Total = count(), Failed = countif(toint(resultCode) >= 500)
| extend FailedPercent = iff(Total == 0, 0.0, 100.0 * Failed / Total)
| where Total >= {0} and FailedPercent > {1}
''',
            ingest5xxMinimumRequests,
            ingest5xxThresholdPercent
          )
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}

// 3. No successful DailyRollup invocation in 26 hours: the daily run (RollupSchedule) plus two
//    hours of slack. The query always returns one row (a count over an empty set is 0), so
//    "nothing happened" is a value the rule can compare, not a missing result.
resource rollupMissingAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-${namePrefix}-rollup-missing'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Pipeline: no successful rollup in 26 hours'
    description: 'The DailyRollup function has not completed successfully in the last 26 hours, so yesterday\'s metrics and export are missing. Check its failures in Application Insights and re-run the day.'
    severity: 1
    enabled: true
    scopes: [applicationInsightsId]
    evaluationFrequency: 'PT1H'
    windowSize: 'P2D'
    criteria: {
      allOf: [
        {
          query: '''
requests
| where timestamp > ago(26h)
| where operation_Name == "DailyRollup" and success == true
| summarize Successes = count()
'''
          timeAggregation: 'Total'
          metricMeasureColumn: 'Successes'
          operator: 'LessThan'
          threshold: 1
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}

output actionGroupName string = actionGroup.name
