// What the canvas nodes need from the editor, without passing it through React Flow's node data.

import { createContext, useContext } from 'react'
import type { WorkflowDocument } from '../api.ts'

export interface EditorContextValue {
  doc: WorkflowDocument
  selected: string | null
  select: (id: string | null) => void
  openAdd: (list: string, index: number, place: string) => void
  errorCount: (stepId: string | null) => number
  runState: (stepId: string) => string | undefined
  triggerRunState: string | undefined
  actionName: (action: string) => string | undefined
  canEdit: boolean
  /** Moves a step to a place in the tree (drag and drop). */
  moveTo: (stepId: string, list: string, index: number) => void
}

export const EditorContext = createContext<EditorContextValue | null>(null)

export function useEditor(): EditorContextValue {
  const v = useContext(EditorContext)
  if (!v) throw new Error('useEditor outside the editor')
  return v
}

/** The id of a node's button, so focus can move to a node. */
export function nodeButtonId(stepId: string | null): string {
  return stepId ? `node-${stepId}` : 'node-trigger'
}

/** Whether the trigger data behind previews is a real sample (captured or from a run). */
export const SampleContext = createContext<{ real: boolean }>({ real: true })
