// A text field for `{{ }}` templates or bare expressions, on CodeMirror: autocomplete of the
// data available at the step, `{{ }}` highlighted, one line unless `multiline`.

import { autocompletion, closeCompletion, completionStatus } from '@codemirror/autocomplete'
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands'
import { Compartment, EditorState, Prec, type Extension } from '@codemirror/state'
import {
  Decoration,
  drawSelection,
  EditorView,
  keymap,
  MatchDecorator,
  placeholder as cmPlaceholder,
  ViewPlugin,
  type DecorationSet,
  type ViewUpdate,
} from '@codemirror/view'
import { useEffect, useMemo, useRef } from 'react'
import { useCodeMirror } from '../codemirror.ts'
import { completionSource, type ExprMode } from './completion.ts'

export interface TemplateInputProps {
  id: string
  /** id of the visible label element. */
  labelledBy: string
  describedBy?: string
  value: string
  onChange: (value: string) => void
  mode?: ExprMode
  multiline?: boolean
  /** Data for autocomplete (read when the list opens). */
  getData: () => Record<string, unknown>
  invalid?: boolean
  placeholder?: string
  readOnly?: boolean
}

const exprMark = Decoration.mark({ class: 'cm-sb-expr' })
const templateHighlighter = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet
    matcher = new MatchDecorator({ regexp: /\{\{[^]*?(\}\}|$)/g, decoration: () => exprMark })
    constructor(view: EditorView) {
      this.decorations = this.matcher.createDeco(view)
    }
    update(u: ViewUpdate) {
      this.decorations = this.matcher.updateDeco(u, this.decorations)
    }
  },
  { decorations: (v) => v.decorations },
)

/** One line: Enter picks a completion (handled by the completion keymap) or does nothing. */
const singleLine: Extension = [
  EditorState.transactionFilter.of((tr) => (tr.newDoc.lines > 1 ? [] : tr)),
  Prec.low(keymap.of([{ key: 'Enter', run: () => true }])),
]

const theme = EditorView.theme({
  '&': { fontSize: '0.9rem' },
  '.cm-content': { fontFamily: 'var(--mono)', padding: '5px 0' },
  '.cm-line': { padding: '0 8px' },
  '&.cm-focused': { outline: 'none' },
  '.cm-scroller': { overflow: 'auto' },
})

export default function TemplateInput({
  id,
  labelledBy,
  describedBy,
  value,
  onChange,
  mode = 'template',
  multiline,
  getData,
  invalid,
  placeholder,
  readOnly,
}: TemplateInputProps) {
  const dataRef = useRef(getData)
  dataRef.current = getData
  const extensions = useMemo<Extension[]>(
    () => [
      autocompletion({
        override: [completionSource(() => dataRef.current(), mode)],
        activateOnTyping: true,
        icons: false,
        closeOnBlur: true,
      }),
      keymap.of([
        {
          key: 'Escape',
          run: (view) => {
            if (completionStatus(view.state)) {
              closeCompletion(view)
              return true
            }
            return false
          },
        },
      ]),
      templateHighlighter,
      theme,
      EditorView.lineWrapping,
      ...(multiline ? [] : [singleLine]),
      EditorView.contentAttributes.of({
        id,
        'aria-labelledby': labelledBy,
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
        ...(invalid ? { 'aria-invalid': 'true' } : {}),
        ...(multiline ? { 'aria-multiline': 'true' } : {}),
      }),
      ...(placeholder ? [cmPlaceholder(placeholder)] : []),
    ],
    [id, labelledBy, describedBy, invalid, mode, multiline, placeholder],
  )
  return (
    <div className={`template-input${multiline ? ' template-input--multi' : ''}${invalid ? ' is-invalid' : ''}`}>
      <CodeEditor value={value} onChange={onChange} extensions={extensions} readOnly={!!readOnly} />
    </div>
  )
}

/** Basics every field gets: undo history, selection drawing, the standard keys (Tab moves focus). */
const BASE: Extension = [history(), drawSelection(), keymap.of([...defaultKeymap, ...historyKeymap])]

/** A minimal controlled CodeMirror view: the value from props, changes out through onChange. */
function CodeEditor({
  value,
  onChange,
  extensions,
  readOnly,
}: {
  value: string
  onChange: (v: string) => void
  extensions: Extension[]
  readOnly: boolean
}) {
  const config = useRef(new Compartment())
  const access = useRef(new Compartment())
  const { host, view } = useCodeMirror(value, onChange, () => [
    BASE,
    config.current.of(extensions),
    access.current.of([EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)]),
  ])

  useEffect(() => {
    view.current?.dispatch({ effects: config.current.reconfigure(extensions) })
  }, [view, extensions])

  useEffect(() => {
    view.current?.dispatch({
      effects: access.current.reconfigure([EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)]),
    })
  }, [view, readOnly])

  return <div ref={host} />
}
