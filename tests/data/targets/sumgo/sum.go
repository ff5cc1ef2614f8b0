// Package sumgo is a tiny module for the targets tests: sums over slices.
package sumgo

// Sum adds xs.
func Sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}

// Window sums the first n values of xs through a copy of size n: a make whose size is known
// only at run time.
func Window(xs []int, n int) int {
	w := make([]int, n)
	copy(w, xs)
	return Sum(w)
}
