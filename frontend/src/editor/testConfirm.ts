// "Test workflow" runs the real actions: the question asked first names them (pure).

import type { ConnectorSpec, WorkflowDocument } from '../api.ts'
import { walkSteps } from './doc.ts'

/** The question to ask before a test run, or null when no step calls a service. */
export function testQuestion(doc: WorkflowDocument, connectors: ConnectorSpec[]): string | null {
  const actions = walkSteps(doc).filter((e) => e.step.type === 'action')
  if (!actions.length) return null
  const lines = actions.map(({ step }) => {
    const [c, a] = (step.action ?? '').split('.')
    const connector = connectors.find((x) => x.id === c)
    const action = connector?.actions?.find((x) => x.id === a || x.id === step.action)
    const what = connector && action ? `${connector.name}: ${action.name}` : step.action || 'an action'
    return `• ${what} (step ${step.id})`
  })
  return `Testing runs the workflow for real with the sample data. These actions will really be called:\n${lines.join('\n')}\n\nRun the test?`
}
