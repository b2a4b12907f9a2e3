// A CodeMirror editor for a connector file, with the server's problems shown on their
// lines: the line is marked and the message is written under it (not only colour).

import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands'
import { EditorState, RangeSetBuilder, StateEffect, StateField } from '@codemirror/state'
import { Decoration, EditorView, keymap, lineNumbers, WidgetType, type DecorationSet } from '@codemirror/view'
import { useEffect } from 'react'
import { useCodeMirror } from '../../codemirror.ts'

export interface LineProblem {
  line: number
  message: string
  path?: string
}

const setProblems = StateEffect.define<LineProblem[]>()

class ProblemWidget extends WidgetType {
  readonly text: string
  constructor(text: string) {
    super()
    this.text = text
  }
  eq(other: ProblemWidget) {
    return other.text === this.text
  }
  toDOM() {
    const el = document.createElement('div')
    el.className = 'cm-problem'
    el.textContent = this.text
    return el
  }
}

/** Decorations for problems, by line (lines beyond the end go on the last line). */
function decorate(state: EditorState, problems: LineProblem[]): DecorationSet {
  const byLine = new Map<number, string[]>()
  for (const p of problems) {
    const n = Math.min(Math.max(p.line, 1), state.doc.lines)
    byLine.set(n, [...(byLine.get(n) ?? []), `Line ${p.line}: ${p.path ? `${p.path}: ` : ''}${p.message}`])
  }
  const b = new RangeSetBuilder<Decoration>()
  for (const n of [...byLine.keys()].sort((a, c) => a - c)) {
    const line = state.doc.line(n)
    b.add(line.from, line.from, Decoration.line({ class: 'cm-problem-line', attributes: { 'data-problem': 'true' } }))
    b.add(line.to, line.to, Decoration.widget({ widget: new ProblemWidget(byLine.get(n)!.join(' · ')), block: true, side: 1 }))
  }
  return b.finish()
}

const problemField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    for (const e of tr.effects) if (e.is(setProblems)) return decorate(tr.state, e.value)
    // Editing moves the marks with the text until the next check.
    return deco.map(tr.changes)
  },
  provide: (f) => EditorView.decorations.from(f),
})

export function FileEditor({
  value,
  onChange,
  problems,
  labelledBy,
  describedBy,
}: {
  value: string
  onChange: (v: string) => void
  problems: LineProblem[]
  labelledBy: string
  describedBy?: string
}) {
  const { host, view } = useCodeMirror(value, onChange, () => [
    lineNumbers(),
    history(),
    keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
    problemField,
    EditorView.contentAttributes.of({
      'aria-labelledby': labelledBy,
      ...(describedBy ? { 'aria-describedby': describedBy } : {}),
      'aria-multiline': 'true',
    }),
  ])

  useEffect(() => {
    view.current?.dispatch({ effects: setProblems.of(problems) })
  }, [view, problems])

  return <div className="file-editor" ref={host} data-testid="connector-editor" />
}
