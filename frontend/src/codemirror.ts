// One CodeMirror view on a host element, for the template fields and the connector file editor.

import { Annotation, EditorState, type Extension } from '@codemirror/state'
import { EditorView } from '@codemirror/view'
import { useEffect, useRef } from 'react'

// Marks the text replacement that follows a changed value, so it is not reported back as an edit.
const fromProps = Annotation.define<boolean>()

/**
 * Creates the view once with `extensions()`; edits go to onChange, and a value changed
 * elsewhere (undo, another panel) replaces the text. Later changes of the extensions are the
 * caller's to dispatch on `view`.
 */
export function useCodeMirror(value: string, onChange: (value: string) => void, extensions: () => Extension) {
  const host = useRef<HTMLDivElement>(null)
  const view = useRef<EditorView | null>(null)
  const change = useRef(onChange)
  change.current = onChange

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          extensions(),
          EditorView.updateListener.of((u) => {
            if (u.docChanged && !u.transactions.some((t) => t.annotation(fromProps))) change.current(u.state.doc.toString())
          }),
        ],
      }),
    })
    view.current = v
    return () => {
      v.destroy()
      view.current = null
    }
    // Created once; value changes are applied below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])

  useEffect(() => {
    const v = view.current
    if (v && v.state.doc.toString() !== value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value }, annotations: fromProps.of(true) })
    }
  }, [value])

  return { host, view }
}
