//go:build !race

package lintdrill

const raceEnabled = false
