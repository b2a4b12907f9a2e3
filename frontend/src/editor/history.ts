// Undo and redo for the document being edited. Typing into one field coalesces into one step.

export interface History<T> {
  past: T[]
  present: T
  future: T[]
  /** Key and time of the last change, so consecutive keystrokes in one field merge. */
  lastKey: string | null
  lastAt: number
}

export type HistoryAction<T> =
  | { type: 'set'; value: T; key?: string; at?: number }
  | { type: 'undo' }
  | { type: 'redo' }
  | { type: 'reset'; value: T }

export const COALESCE_MS = 1000
const LIMIT = 200

export function initHistory<T>(value: T): History<T> {
  return { past: [], present: value, future: [], lastKey: null, lastAt: 0 }
}

export function historyReducer<T>(state: History<T>, action: HistoryAction<T>): History<T> {
  switch (action.type) {
    case 'set': {
      if (action.value === state.present) return state
      const at = action.at ?? Date.now()
      const merge = action.key != null && action.key === state.lastKey && at - state.lastAt < COALESCE_MS
      const past = merge ? state.past : [...state.past, state.present].slice(-LIMIT)
      return { past, present: action.value, future: [], lastKey: action.key ?? null, lastAt: at }
    }
    case 'undo': {
      if (!state.past.length) return state
      const prev = state.past[state.past.length - 1]
      return { past: state.past.slice(0, -1), present: prev, future: [state.present, ...state.future], lastKey: null, lastAt: 0 }
    }
    case 'redo': {
      if (!state.future.length) return state
      const [next, ...rest] = state.future
      return { past: [...state.past, state.present], present: next, future: rest, lastKey: null, lastAt: 0 }
    }
    case 'reset':
      return initHistory(action.value)
  }
}
