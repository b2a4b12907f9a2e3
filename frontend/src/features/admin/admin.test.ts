import { describe, expect, it } from 'vitest'
import { ApiError } from '../../api.ts'
import { slugify } from '../connections/ConnectionsPage.tsx'
import { describeDetail, localToRFC3339 } from './AdminPages.tsx'
import { fileType, lineProblems } from './ConnectorsPage.tsx'

describe('admin helpers', () => {
  it('derives a connection key from the name people type', () => {
    expect(slugify('Sales Slack')).toBe('sales-slack')
    expect(slugify('  Équipe CRM (prod) ')).toBe('equipe-crm-prod')
    expect(slugify('team_a.v2')).toBe('team_a.v2')
  })
  it('sends a pasted file as JSON or YAML', () => {
    expect(fileType('{"id":"x"}')).toBe('application/json')
    expect(fileType('id: x')).toBe('application/yaml')
    expect(fileType('id: x', 'acme.json')).toBe('application/json')
  })
  it('keeps the problems that name a line for the editor', () => {
    const err = new ApiError({
      title: 'Unprocessable Entity',
      status: 422,
      errors: [
        { path: 'actions[0].method', message: 'must be GET, POST…', line: 12 },
        { path: '', message: 'no line' },
      ],
    })
    expect(lineProblems(err)).toEqual([{ line: 12, message: 'must be GET, POST…', path: 'actions[0].method' }])
    expect(lineProblems(new Error('x'))).toEqual([])
  })
  it('says what an audit entry changed', () => {
    expect(describeDetail({ changes: { role: ['viewer', 'editor'], password: true }, request: { role: 'editor' } })).toEqual([
      'role: viewer → editor',
      'password changed',
    ])
    expect(describeDetail({ email: 'a@b.c' })).toEqual(['email: a@b.c'])
    expect(describeDetail(undefined)).toEqual([])
  })
  it('turns a local date-time into RFC 3339', () => {
    expect(localToRFC3339('')).toBe('')
    expect(localToRFC3339('2026-12-04T10:00')).toMatch(/^2026-12-0[34]T\d\d:00:00Z$/)
  })
})
