package eventstore

// WithOneByOne makes appends of several events go one event at a time,
// as before atomic batches, for tests and benchmarks to compare.
func WithOneByOne() Option {
	return func(s *Store) { s.atomic.Store(atomicOff) }
}
