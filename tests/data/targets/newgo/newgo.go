// Package newgo needs Go 1.24 (its go.mod says so): older toolchains skip it.
package newgo

// Max of xs (0 for none).
func Max(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
