import { afterEach, describe, expect, it, vi } from 'vitest'
import { ALL_RUNS, confirmLeave, DASHBOARD, editorRoute, HOME, NEW_WORKFLOW, parseRoute, routePath, runRoute, runsRoute, setNavigationGuard } from './route.ts'

describe('routes', () => {
  it.each([
    ['/', HOME],
    ['/unknown', HOME],
    ['/workflows', HOME],
    ['/workflows/new', NEW_WORKFLOW],
    ['/workflows/wf1', editorRoute('wf1')],
    ['/workflows/wf1/', editorRoute('wf1')],
    ['/workflows/wf1/runs', runsRoute('wf1')],
    ['/workflows/wf1/runs/r9', runsRoute('wf1', 'r9')],
    ['/workflows/wf%201/runs/r%2F9', runsRoute('wf 1', 'r/9')],
    ['/dashboard', DASHBOARD],
    ['/runs', ALL_RUNS],
    ['/runs/r%2F9', runRoute('r/9')],
  ])('parses %s', (path, want) => {
    expect(parseRoute(path)).toEqual(want)
  })

  it('round-trips', () => {
    for (const r of [HOME, DASHBOARD, ALL_RUNS, runRoute('r 1'), NEW_WORKFLOW, editorRoute('a b'), runsRoute('wf'), runsRoute('wf', 'r/1')]) {
      expect(parseRoute(routePath(r))).toEqual(r)
    }
    expect(routePath(runsRoute('wf1', 'r1'))).toBe('/workflows/wf1/runs/r1')
    expect(routePath(editorRoute('wf1'))).toBe('/workflows/wf1')
  })
})

describe('navigation guard', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('asks only while there is something to lose', () => {
    const confirm = vi.fn(() => false)
    vi.stubGlobal('window', { confirm })
    let dirty = true
    const off = setNavigationGuard(() => (dirty ? 'Leave without saving?' : null))
    expect(confirmLeave()).toBe(false)
    expect(confirm).toHaveBeenCalledWith('Leave without saving?')
    dirty = false
    expect(confirmLeave()).toBe(true)
    dirty = true
    off()
    expect(confirmLeave()).toBe(true)
    expect(confirm).toHaveBeenCalledTimes(1)
  })
})
