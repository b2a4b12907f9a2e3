import { describe, expect, it } from 'vitest'
import { describeCron } from './cron.ts'

describe('cron in words', () => {
  it.each([
    ['0 9 * * 1-5', 'Every weekday at 09:00'],
    ['30 7 * * *', 'Every day at 07:30'],
    ['0 18 * * 5', 'Every Friday at 18:00'],
    ['0 10 * * 1,3', 'Every Monday, Wednesday at 10:00'],
    ['0 0 1 * *', 'On day 1 of every month at 00:00'],
    ['*/15 * * * *', 'Every 15 minutes'],
    ['5 * * * *', 'Every hour at minute 5'],
    ['0 */6 * * *', 'Every 6 hours at minute 0'],
    ['@every 1h', 'Every hour'],
    ['@every 90s', 'Every 90 seconds'],
    ['@daily', 'Every day at 00:00'],
  ])('%s', (spec, words) => {
    expect(describeCron(spec)).toBe(words)
  })

  it('gives up on patterns it does not know', () => {
    expect(describeCron('0 9 * 1 *')).toBeNull()
    expect(describeCron('0 25 * * *')).toBeNull()
    expect(describeCron('nonsense')).toBeNull()
  })
})
