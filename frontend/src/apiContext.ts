// The API client the components use; tests provide a fake one.

import { createContext, useContext } from 'react'
import { api, type ApiClient } from './api.ts'

export const ApiContext = createContext<ApiClient>(api)

export function useApi(): ApiClient {
  return useContext(ApiContext)
}
