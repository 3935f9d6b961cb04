package eventstore

// WithOneByOne makes appends of several events go one event at a time,
// as before atomic batches, for benchmarks to compare.
func WithOneByOne() Option {
	return func(s *Store) { s.atomic.Store(atomicOff) }
}

// WithAtomicBatches makes appends of several events go as one atomic
// batch whatever the stream, for benchmarks to measure a batch where the
// store would not send one (a single file replica).
func WithAtomicBatches() Option {
	return func(s *Store) { s.atomic.Store(atomicOn) }
}

// WithAfterSend runs fn after each event of a one-by-one append is
// written, for tests to write between two events of one append.
func WithAfterSend(fn func(requestID string, i int)) Option {
	return func(s *Store) { s.afterSend = fn }
}
