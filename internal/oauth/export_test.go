package oauth

// SetBeforeLock installs a hook called after a token was found stale and
// before the connection's row lock is taken.
func SetBeforeLock(m *Manager, f func()) { m.beforeLock = f }
