//go:build race

package lab

// raceEnabled is recorded in the metadata: -race makes frames and stacks larger.
const raceEnabled = true
