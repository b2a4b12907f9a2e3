// Where each step of a run sits on a time axis (pure, unit-tested in timeline.test.ts).

import { parseTime } from '../../format.ts'
import type { ConsoleRunDetail, DeliveryAttempt } from './api.ts'

export interface TimelineMark {
  /** Position on the axis, 0–100. */
  at: number
  attempt: number
  status: number
  ok: boolean
  delivery: DeliveryAttempt
}

export interface TimelineRow {
  key: string
  stepId: string
  itemKey: string
  state: string
  attempts: number
  /** Left edge and width on the axis, 0–100. */
  left: number
  width: number
  /** The step is waiting (a delay or a retry backoff) until this point of the axis. */
  waitUntil: number | null
  startMs: number
  durationMs: number | null
  marks: TimelineMark[]
}

export interface Timeline {
  startMs: number
  endMs: number
  rows: TimelineRow[]
}

function ms(t: string | null | undefined): number | null {
  return parseTime(t)?.getTime() ?? null
}

export function buildTimeline(run: ConsoleRunDetail, now: number): Timeline {
  const start = ms(run.started_at) ?? ms(run.created_at) ?? now
  const next = ms(run.next_attempt_at)
  let end = ms(run.finished_at) ?? Math.max(now, next ?? 0)
  for (const s of run.steps) end = Math.max(end, ms(s.finished_at) ?? 0)
  for (const d of run.deliveries) end = Math.max(end, (ms(d.created_at) ?? 0) + d.latency_ms)
  const span = Math.max(end - start, 1)
  const pos = (t: number) => Math.min(100, Math.max(0, ((t - start) / span) * 100))

  const rows: TimelineRow[] = run.steps.map((s) => {
    const st = ms(s.started_at) ?? start
    const fin = ms(s.finished_at)
    const waiting = s.state === 'waiting' && fin === null
    const stepEnd = fin ?? (waiting && next ? next : end)
    const marks = run.deliveries
      .filter((d) => d.step_id === s.step_id && (d.item_key ?? '') === (s.item_key ?? ''))
      .map((d) => ({
        at: pos(ms(d.created_at) ?? st),
        attempt: d.attempt,
        status: d.status,
        ok: d.status >= 200 && d.status < 300 && !d.error,
        delivery: d,
      }))
    const left = pos(st)
    return {
      key: `${s.step_id}/${s.item_key ?? ''}`,
      stepId: s.step_id,
      itemKey: s.item_key ?? '',
      state: s.state,
      attempts: s.attempts,
      left,
      width: Math.max(pos(stepEnd) - left, 0.5),
      waitUntil: waiting && next ? pos(next) : null,
      startMs: st - start,
      durationMs: fin === null ? null : fin - st,
      marks,
    }
  })
  return { startMs: start, endMs: end, rows }
}

/**
 * A replay's run with the delivery attempts of the run it replays added, for one timeline that
 * shows every attempt of a step: the failed ones of the original, then the replay's. The axis
 * then starts where the original did.
 */
export function withOriginalAttempts(run: ConsoleRunDetail, original: ConsoleRunDetail): ConsoleRunDetail {
  const steps = new Set(run.steps.map((s) => `${s.step_id}/${s.item_key ?? ''}`))
  const earlier = original.deliveries.filter((d) => steps.has(`${d.step_id}/${d.item_key ?? ''}`))
  if (!earlier.length) return run
  return { ...run, started_at: original.started_at ?? original.created_at, deliveries: [...earlier, ...run.deliveries] }
}
