/// <reference types="vitest/config" />
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'

const here = path.dirname(fileURLToPath(import.meta.url))
// The Go package internal/webui embeds this folder with //go:embed all:dist.
const outDir = path.resolve(here, '../internal/webui/dist')

// emptyOutDir deletes the committed dist/.gitkeep on every build; without it a clean
// checkout has an empty dist and //go:embed fails. Write it back after each build.
function keepGitkeep(): Plugin {
  return {
    name: 'switchboard-keep-gitkeep',
    apply: 'build',
    closeBundle() {
      mkdirSync(outDir, { recursive: true })
      writeFileSync(path.join(outDir, '.gitkeep'), '')
    },
  }
}

export default defineConfig({
  plugins: [react(), keepGitkeep()],
  build: {
    outDir,
    emptyOutDir: true,
    rolldownOptions: {
      output: {
        // Libraries in their own chunks: the workflow list loads React and TanStack Query only;
        // the editor loads React Flow and CodeMirror when it opens.
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            { name: 'query', test: /node_modules[\\/]@tanstack[\\/]/ },
            { name: 'charts', test: /node_modules[\\/](recharts|victory-vendor|d3-(scale|shape|path|array|format|time|time-format)|@reduxjs|react-redux|immer|reselect|es-toolkit|decimal.js-light)[\\/]/ },
            { name: 'xyflow', test: /node_modules[\\/](@xyflow|d3-[a-z-]+|classcat|zustand)[\\/]/ },
            { name: 'codemirror', test: /node_modules[\\/](@codemirror|@lezer|@uiw|codemirror|crelt|style-mod|w3c-keyname|@marijn)[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    // `npm run dev` talks to a locally running `switchboard serve`.
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/hooks': 'http://127.0.0.1:8080',
      '/healthz': 'http://127.0.0.1:8080',
    },
  },
  test: {
    include: ['src/**/*.test.{ts,tsx}'],
    environment: 'node',
  },
})
