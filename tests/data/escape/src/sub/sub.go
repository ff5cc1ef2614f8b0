// Package sub is inlined into its caller to show positions of inlined code.
package sub

// Box holds an int.
type Box struct{ V int }

// Wrap allocates a Box; after inlining, the allocation is reported at the caller.
func Wrap(v int) *Box {
	return &Box{V: v}
}

// Keep reads a Box.
func Keep(b *Box) int { return b.V }

// Twice doubles.
func Twice(x int) int { return 2 * x }

// Escape stores into a global; inlined, its boxing is reported at the inner position.
func Escape(v int) {
	global = &v
}

var global *int
