// Starting points for new workflows. Templates use only connectors the server has: HubSpot
// falls back to a plain HTTP request to HubSpot's API when there is no hubspot connector.

import type { ConnectorSpec, StepDoc, WorkflowDocument } from './api.ts'
import { emptyDocument, SCHEMA } from './editor/doc.ts'

export interface Template {
  id: string
  title: string
  description: string
  trigger: string
  build: (name: string, connectors: ConnectorSpec[]) => WorkflowDocument
}

function has(connectors: ConnectorSpec[], action: string): boolean {
  const [c, a] = action.split('.')
  return connectors.some((s) => s.id === c && (s.actions ?? []).some((x) => x.id === a))
}

export const BLANK_TRIGGERS = [
  { id: 'webhook', label: 'Webhook', help: 'Starts when an app sends an HTTP request to the workflow’s URL' },
  { id: 'schedule', label: 'Schedule', help: 'Starts at set times (every weekday at 9:00, every hour…)' },
  { id: 'form', label: 'Form', help: 'Starts when someone fills in a hosted form' },
] as const

export const TEMPLATES: Template[] = [
  {
    id: 'webhook-slack',
    title: 'Webhook → Slack alert',
    description: 'Post a Slack message for every event an app sends.',
    trigger: 'webhook',
    build: (name) => ({
      schema: SCHEMA,
      name,
      trigger: { type: 'webhook', webhook: { methods: ['POST'] } },
      steps: [
        {
          id: 'alert',
          type: 'action',
          action: 'slack.post_message',
          input: { channel: '#alerts', text: 'New event: {{ toJSON(trigger.body) }}' },
        },
      ],
    }),
  },
  {
    id: 'form-hubspot-slack',
    title: 'Form → HubSpot contact + Slack',
    description: 'Save form sign-ups as HubSpot contacts and tell the team in Slack.',
    trigger: 'form',
    build: (name, connectors) => {
      const doc = emptyDocument(name, 'form')
      doc.trigger.form = {
        title: name,
        fields: [
          { key: 'name', label: 'Name', required: true },
          { key: 'email', label: 'E-mail', type: 'email', required: true },
          { key: 'company', label: 'Company' },
        ],
        success: { message: 'Thanks! We will be in touch.' },
      }
      const contact: StepDoc = has(connectors, 'hubspot.upsert_contact')
        ? {
            id: 'contact',
            type: 'action',
            action: 'hubspot.upsert_contact',
            input: { email: '{{ trigger.fields.email }}', firstname: '{{ trigger.fields.name }}', company: '{{ trigger.fields.company }}' },
          }
        : {
            id: 'contact',
            type: 'action',
            action: 'http.request',
            name: 'Create HubSpot contact',
            input: {
              method: 'POST',
              url: 'https://api.hubapi.com/crm/v3/objects/contacts',
              json: {
                properties: {
                  email: '{{ trigger.fields.email }}',
                  firstname: '{{ trigger.fields.name }}',
                  company: '{{ trigger.fields.company }}',
                },
              },
            },
          }
      doc.steps = [
        contact,
        {
          id: 'notify',
          type: 'action',
          action: 'slack.post_message',
          input: { channel: '#sales', text: 'New sign-up: {{ trigger.fields.name }} <{{ trigger.fields.email }}>' },
        },
      ]
      return doc
    },
  },
  {
    id: 'schedule-http',
    title: 'Schedule → HTTP report',
    description: 'Every weekday morning, send a report to an HTTP endpoint.',
    trigger: 'schedule',
    build: (name) => ({
      schema: SCHEMA,
      name,
      trigger: { type: 'schedule', schedule: { cron: '0 9 * * 1-5', timezone: 'UTC' } },
      steps: [
        {
          id: 'report',
          type: 'action',
          action: 'http.request',
          input: {
            method: 'POST',
            url: 'https://example.com/reports',
            json: { report: 'daily', at: '{{ trigger.fired_at }}' },
          },
        },
      ],
    }),
  },
  {
    id: 'order-paths',
    title: 'Order webhook → paths to CRM and chat',
    description: 'Big orders go to the CRM, every order is announced in chat.',
    trigger: 'webhook',
    build: (name, connectors) => ({
      schema: SCHEMA,
      name,
      trigger: { type: 'webhook', webhook: { methods: ['POST'] } },
      steps: [
        {
          id: 'order',
          type: 'map',
          fields: {
            text: 'Order #{{ trigger.body.id }} from {{ trigger.body.customer.name }}: {{ trigger.body.total }}',
            email: '{{ lower(trigger.body.customer.email) }}',
          },
        },
        {
          id: 'route',
          type: 'paths',
          mode: 'all',
          paths: [
            {
              name: 'Big orders to CRM',
              if: 'trigger.body.total > 1000',
              steps: [
                has(connectors, 'hubspot.upsert_contact')
                  ? { id: 'crm', type: 'action', action: 'hubspot.upsert_contact', input: { email: '{{ steps.order.email }}' } }
                  : {
                      id: 'crm',
                      type: 'action',
                      action: 'http.request',
                      name: 'Send to CRM',
                      input: { method: 'POST', url: 'https://crm.example.com/api/orders', json: { email: '{{ steps.order.email }}' } },
                    },
              ],
            },
            {
              name: 'Every order to chat',
              steps: [{ id: 'chat', type: 'action', action: 'slack.post_message', input: { channel: '#orders', text: '{{ steps.order.text }}' } }],
            },
          ],
        },
      ],
    }),
  },
]
