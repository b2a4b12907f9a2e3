// @vitest-environment jsdom
// The CodeMirror field itself: labelled for assistive tech, controlled by its value, and
// offering the data of the step when the list is opened.
import { currentCompletions, startCompletion } from '@codemirror/autocomplete'
import { EditorView } from '@codemirror/view'
import { cleanup, render, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import TemplateInput from './TemplateInput.tsx'

afterEach(cleanup)

// jsdom has no layout; CodeMirror measures text ranges.
const emptyRects = () => Object.assign([], { item: () => null }) as unknown as DOMRectList
Range.prototype.getClientRects ??= emptyRects
Range.prototype.getBoundingClientRect ??= () => new DOMRect()

const data = { trigger: { body: { customer: { name: 'Ada' }, total: 250 } }, steps: {} }

function setup(value: string, onChange = vi.fn(), extra: Partial<Parameters<typeof TemplateInput>[0]> = {}) {
  const utils = render(
    <>
      <span id="lbl">Message</span>
      <TemplateInput id="msg" labelledBy="lbl" value={value} onChange={onChange} getData={() => data} {...extra} />
    </>,
  )
  const content = utils.container.querySelector('.cm-content') as HTMLElement
  const view = EditorView.findFromDOM(content)!
  return { ...utils, content, view, onChange }
}

describe('template field', () => {
  it('is a labelled text box', () => {
    const { content } = setup('Hi')
    expect(content.getAttribute('role')).toBe('textbox')
    expect(content.getAttribute('aria-labelledby')).toBe('lbl')
    expect(content.id).toBe('msg')
    expect(content.textContent).toBe('Hi')
  })

  it('reports what the user types, but not values set from outside (undo)', () => {
    const { view, onChange, rerender } = setup('Hi')
    view.dispatch({ changes: { from: 2, insert: ' {{ trigger.body.total }}' }, userEvent: 'input.type' })
    expect(onChange).toHaveBeenLastCalledWith('Hi {{ trigger.body.total }}')
    onChange.mockClear()
    rerender(
      <>
        <span id="lbl">Message</span>
        <TemplateInput id="msg" labelledBy="lbl" value="Back" onChange={onChange} getData={() => data} />
      </>,
    )
    expect(view.state.doc.toString()).toBe('Back')
    expect(onChange).not.toHaveBeenCalled()
  })

  it('keeps one line unless multiline', () => {
    const { view } = setup('a')
    view.dispatch({ changes: { from: 1, insert: '\nb' } })
    expect(view.state.doc.toString()).toBe('a')
  })

  it('opens the completion list with the sample data under the cursor', async () => {
    const { view } = setup('{{ trigger.body.')
    view.dispatch({ selection: { anchor: view.state.doc.length } })
    startCompletion(view)
    await waitFor(() => expect(currentCompletions(view.state).map((c) => c.label)).toEqual(['customer', 'total']))
  })

  it('marks itself read-only and invalid', () => {
    const { content } = setup('x', vi.fn(), { readOnly: true, invalid: true })
    expect(content.getAttribute('contenteditable')).toBe('false')
    expect(content.getAttribute('aria-invalid')).toBe('true')
  })
})
