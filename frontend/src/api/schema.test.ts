import { readFileSync } from 'node:fs'
import openapiTS from 'openapi-typescript'
import { describe, expect, it } from 'vitest'

// The committed types must be what openapi-typescript makes of the committed document (which a
// Go test in internal/api keeps equal to what the Go code produces). Regenerate with `npm run gen:api`.
describe('generated API types', () => {
  it('are current with src/api/openapi.json', async () => {
    const doc = JSON.parse(readFileSync(new URL('./openapi.json', import.meta.url), 'utf8'))
    const committed = readFileSync(new URL('./schema.d.ts', import.meta.url), 'utf8')
    const fresh = await openapiTS(doc)
    expect(committed === fresh, 'src/api/schema.d.ts is stale: run `npm run gen:api` in frontend/').toBe(true)
  })
})
