package ddrerr

import (
	"context"
	"errors"
)

// Disposition is what to do with a failed piece of work: the one rule for
// every transport. The gRPC error mapping (grpcserver.ToStatus) and the
// reactor runner (consumer) both follow [Classify].
type Disposition int

const (
	// Retry: the failure may pass (a concurrent write won, a dependency is
	// down, an unexpected internal error). A gRPC caller gets ABORTED,
	// UNAVAILABLE or INTERNAL and may try again; a reactor naks the event
	// and retries it with backoff, up to its MaxDeliver, then dead-letters
	// it.
	Retry Disposition = iota
	// ClientError: the work as given can never succeed (invalid input, a
	// policy refusal, an unknown id, no permission, already exists, a state
	// that does not allow it). A gRPC caller gets the precise code; a
	// reactor dead-letters the event at once, retrying cannot change it.
	ClientError
	// DeadLetter: a permanent failure with nobody to tell (an event that
	// cannot be decoded, is forged, or breaks an invariant: see
	// [Permanent]). A reactor dead-letters it at once; a gRPC caller gets
	// INTERNAL.
	DeadLetter
)

func (d Disposition) String() string {
	switch d {
	case Retry:
		return "retry"
	case ClientError:
		return "client_error"
	case DeadLetter:
		return "dead_letter"
	}
	return "unknown"
}

// ErrPermanent matches errors made by [Permanent].
var ErrPermanent = errors.New("permanent failure")

type permanentError struct{ err error }

func (e *permanentError) Error() string        { return e.err.Error() }
func (e *permanentError) Unwrap() error        { return e.err }
func (e *permanentError) Is(target error) bool { return target == ErrPermanent }

// Permanent marks err as one that retrying cannot fix and no caller can act
// on: [Classify] says DeadLetter. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// Classify says what to do with err (nil is Retry: nothing to classify).
// Order matters: a permanent mark wins, then the client errors, then the
// transient ones; anything unknown is retried, because an unexpected error
// is more often a passing fault than a poisoned input, and a reactor
// dead-letters it after its last attempt anyway.
//
// Errors of other packages take part without ddrerr importing them by
// implementing Permanent() bool (eventstore.DecodeError does).
func Classify(err error) Disposition {
	var p interface{ Permanent() bool }
	switch {
	case errors.Is(err, ErrPermanent), errors.As(err, &p) && p.Permanent():
		return DeadLetter
	}
	var ve *ValidationError
	var pv *PolicyViolation
	switch {
	case errors.As(err, &ve), errors.As(err, &pv),
		errors.Is(err, ErrNotFound), errors.Is(err, ErrPermissionDenied),
		errors.Is(err, ErrAlreadyExists), errors.Is(err, ErrFailedPrecondition):
		return ClientError
	case errors.Is(err, ErrConflict), errors.Is(err, ErrUnavailable),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return Retry
	}
	return Retry
}
