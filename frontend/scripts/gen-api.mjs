// npm run gen:api — regenerates the API contract the frontend compiles against:
//   src/api/openapi.json  the OpenAPI document, written by the Go code (switchboard openapi)
//   src/api/schema.d.ts   TypeScript types generated from it by openapi-typescript
// Both are committed; src/api/schema.test.ts and a Go test in internal/api fail when stale.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import openapiTS from 'openapi-typescript'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '../..')
const docPath = path.resolve(here, '../src/api/openapi.json')
const typesPath = path.resolve(here, '../src/api/schema.d.ts')

execFileSync('go', ['run', './cmd/switchboard', 'openapi', '-o', docPath], { cwd: root, stdio: 'inherit' })
// Defaults only: schema.test.ts renders the same way to check the committed file.
const types = await openapiTS(JSON.parse(readFileSync(docPath, 'utf8')))
writeFileSync(typesPath, types)
console.log(`wrote ${path.relative(root, docPath)} and ${path.relative(root, typesPath)}`)
