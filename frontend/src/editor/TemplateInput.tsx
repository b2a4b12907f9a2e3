// A text field for `{{ }}` templates or bare expressions, on CodeMirror: autocomplete of the
// data available at the step, `{{ }}` highlighted, one line unless `multiline`.

import { autocompletion, closeCompletion, completionStatus } from '@codemirror/autocomplete'
import { EditorState, Prec, type Extension } from '@codemirror/state'
import { Decoration, EditorView, keymap, MatchDecorator, placeholder as cmPlaceholder, ViewPlugin, type DecorationSet, type ViewUpdate } from '@codemirror/view'
import CodeMirror, { type BasicSetupOptions } from '@uiw/react-codemirror'
import { useMemo, useRef } from 'react'
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

const SETUP: BasicSetupOptions = {
  lineNumbers: false,
  foldGutter: false,
  highlightActiveLine: false,
  highlightActiveLineGutter: false,
  autocompletion: false,
  closeBrackets: false,
  searchKeymap: false,
  lintKeymap: false,
  foldKeymap: false,
  dropCursor: false,
  rectangularSelection: false,
  crosshairCursor: false,
  highlightSelectionMatches: false,
  completionKeymap: true,
  indentOnInput: false,
  tabSize: 2,
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
      <CodeMirror
        value={value}
        onChange={onChange}
        extensions={extensions}
        basicSetup={SETUP}
        indentWithTab={false}
        editable={!readOnly}
        readOnly={readOnly}
        theme="none"
        minHeight={multiline ? '4.5em' : undefined}
      />
    </div>
  )
}
