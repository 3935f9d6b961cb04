package ddrerr

import "errors"

// Sentinels for outcomes that need no detail beyond their kind. Wrap them to
// add context, e.g. fmt.Errorf("%w: request %s", ErrNotFound, id); callers
// test with errors.Is. The transport maps each to one gRPC code.
var (
	// ErrNotFound: the thing asked for does not exist, or the caller may not
	// know that it exists.
	ErrNotFound = errors.New("not found")
	// ErrPermissionDenied: the caller is known but may not do this.
	ErrPermissionDenied = errors.New("permission denied")
	// ErrAlreadyExists: a create met an existing thing with the same id.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: a concurrent change won; the caller may retry from a fresh read.
	ErrConflict = errors.New("conflict")
	// ErrFailedPrecondition: the state does not allow this now. Policy
	// refusals use [PolicyViolation], which also matches this sentinel.
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrUnavailable: a dependency is down; retrying later may succeed.
	ErrUnavailable = errors.New("unavailable")
)
