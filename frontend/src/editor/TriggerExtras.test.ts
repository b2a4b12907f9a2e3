import { describe, expect, it } from 'vitest'
import { compact, splitList } from './TriggerExtras.tsx'

describe('trigger settings helpers', () => {
  it('splits lists on commas and lines, dropping blanks', () => {
    expect(splitList('127.0.0.1, 10.0.0.0/8\n\n  order.paid ')).toEqual(['127.0.0.1', '10.0.0.0/8', 'order.paid'])
    expect(splitList(' , \n')).toBeUndefined()
  })
  it('leaves out empty settings so the document stays as small as written', () => {
    expect(compact({ header: 'X-Event-Id', expression: '', window: undefined, disabled: false })).toEqual({ header: 'X-Event-Id' })
    expect(compact({ header: '', disabled: false })).toBeUndefined()
  })
})
