package protoconv

// Each converts every element of a repeated field, or of a domain list for
// the wire, with conv. An empty list gives nil, as the loops it replaces
// did: a domain value compared after a round trip must not turn an absent
// list into an empty one.
func Each[T, U any](xs []T, conv func(T) U) []U {
	if len(xs) == 0 {
		return nil
	}
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, conv(x))
	}
	return out
}
