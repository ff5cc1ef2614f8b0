//go:build race

package lintdrill

// raceEnabled: the race detector changes allocation counts (it instruments
// goroutine starts and sync.Pool drops items at random), so exact
// allocation assertions are skipped under -race.
const raceEnabled = true
