// "Test this step": logic steps evaluate their expressions against the data the step would see
// (POST /api/v1/expressions/evaluate); an action runs alone on the server (POST
// /api/v1/steps/test), calling the real service but recording nothing.

import { ApiError, type ApiClient, type StepDoc } from '../api.ts'
import { trimForEvaluate } from './sampleData.ts'

export interface StepTestResult {
  output?: unknown
  /** Where it failed (`if`, `fields.text`, `paths[1].if`) and why. */
  error?: { field: string; message: string }
}

export const TESTABLE_TYPES = new Set(['filter', 'map', 'for_each', 'paths', 'delay', 'action'])

export function canTestStep(step: StepDoc): boolean {
  if (step.type === 'delay') return !!step.until
  if (step.type === 'action') return !!step.action
  return TESTABLE_TYPES.has(step.type)
}

class FieldFailure extends Error {
  readonly field: string
  constructor(field: string, message: string) {
    super(message)
    this.field = field
  }
}

function explain(err: unknown): string {
  if (err instanceof ApiError) {
    const fe = err.fieldErrors[0] as ({ message: string; line?: number; column?: number } & object) | undefined
    if (fe) return fe.line ? `line ${fe.line}, column ${fe.column}: ${fe.message}` : fe.message
    return err.message
  }
  return err instanceof Error ? err.message : String(err)
}

export async function testLogicStep(api: ApiClient, step: StepDoc, rawData: Record<string, unknown>): Promise<StepTestResult> {
  const data = trimForEvaluate(rawData)
  const expression = async (field: string, src: string | undefined): Promise<unknown> => {
    if (!src?.trim()) throw new FieldFailure(field, 'is empty')
    try {
      return (await api.evaluate({ expression: src, data })).value
    } catch (err) {
      throw new FieldFailure(field, explain(err))
    }
  }
  const value = async (field: string, v: unknown): Promise<unknown> => {
    if (typeof v === 'string') {
      if (!v.includes('{{')) return v
      try {
        return (await api.evaluate({ template: v, data })).value
      } catch (err) {
        throw new FieldFailure(field, explain(err))
      }
    }
    if (Array.isArray(v)) return Promise.all(v.map((x, i) => value(`${field}[${i}]`, x)))
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) out[k] = await value(`${field}.${k}`, x)
      return out
    }
    return v
  }
  try {
    switch (step.type) {
      case 'filter': {
        const passed = await expression('if', step.if)
        if (typeof passed !== 'boolean') throw new FieldFailure('if', `gives ${JSON.stringify(passed)}, not true or false`)
        return { output: { passed } }
      }
      case 'map':
        return { output: await value('fields', step.fields ?? {}) }
      case 'for_each': {
        const items = await expression('items', step.items)
        if (!Array.isArray(items)) throw new FieldFailure('items', `gives ${JSON.stringify(items)?.slice(0, 80)}, not a list`)
        return { output: { count: items.length, first: items[0] ?? null } }
      }
      case 'paths': {
        const taken: string[] = []
        for (const [i, p] of (step.paths ?? []).entries()) {
          const runs = p.if?.trim() ? await expression(`paths[${i}].if`, p.if) : true
          if (runs === true) {
            taken.push(p.name || `Path ${i + 1}`)
            if (step.mode === 'first') break
          }
        }
        return { output: { paths: taken } }
      }
      case 'delay':
        return { output: { until: await expression('until', step.until) } }
      case 'action': {
        const answer = await api.testStep(step, data)
        if (!answer.ok) return { error: { field: '', message: answer.error?.message ?? 'the action failed' } }
        return { output: answer.output }
      }
    }
    return { error: { field: '', message: 'Only logic steps can be tried alone; use Test workflow for actions.' } }
  } catch (err) {
    if (err instanceof FieldFailure) return { error: { field: err.field, message: err.message } }
    return { error: { field: '', message: explain(err) } }
  }
}
