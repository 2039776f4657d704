// The event types and severities, with the product's descriptions.
export const EVENT_TYPES = [
  { id: 'JOB', label: 'Job', text: 'A job a policy ran has finished, succeeded or failed.' },
  { id: 'DEPLOYMENT', label: 'Deployment', text: 'A deployment started, finished or was rolled back.' },
  { id: 'SPENDING', label: 'Spending', text: 'Spending crossed a budget threshold.' },
  { id: 'CONFIGURATION', label: 'Configuration', text: 'A configuration or policy was changed.' },
  { id: 'SYSTEM', label: 'System', text: 'The platform itself: health, capacity, maintenance.' },
] as const;

export const SEVERITIES = [
  { id: 'CRITICAL', label: 'Critical', text: 'Needs action now: a failure or an outage.' },
  { id: 'WARNING', label: 'Warning', text: 'Needs attention soon: a risk or a degradation.' },
  { id: 'INFO', label: 'Info', text: 'For the record: nothing to do.' },
] as const;

export type EventType = (typeof EVENT_TYPES)[number]['id'];
export type Severity = (typeof SEVERITIES)[number]['id'];
