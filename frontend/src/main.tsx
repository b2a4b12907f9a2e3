import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { QueryClientProvider } from '@tanstack/react-query'
import App from './App.tsx'
import { AuthGate } from './auth.tsx'
import { LINK_PATH, LinkPage } from './features/account/LinkPage.tsx'
import { createQueryClient } from './queries.ts'
import './styles.css'

const queryClient = createQueryClient()

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      {/* A one-time link (invitation, password reset) opens before anyone is signed in. */}
      {window.location.pathname === LINK_PATH ? (
        <LinkPage />
      ) : (
        <AuthGate>
          <App />
        </AuthGate>
      )}
    </QueryClientProvider>
  </StrictMode>,
)
