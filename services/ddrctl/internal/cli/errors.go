package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/ddrctl/client"
)

// Exit codes: scripts branch on them, so they are part of the interface.
const (
	ExitOK           = 0
	ExitError        = 1
	ExitUsage        = 2
	ExitNotFound     = 3
	ExitInvalid      = 4
	ExitRefused      = 5
	ExitDenied       = 6
	ExitUnavailable  = 7
	ExitInterrupted  = 130
	exitUnclassified = -1
)

// exitError carries an exit code chosen where the error arose.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(err error) error { return &exitError{code: ExitUsage, err: err} }

// run wraps a command body: errors that are neither gRPC answers nor
// already classified are generic failures, so that whatever reaches
// [report] unwrapped came from cobra's own parsing (a usage error).
func run(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := f(cmd, args)
		if err == nil {
			return nil
		}
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, errInterrupted) {
			return &exitError{code: ExitInterrupted, err: errInterrupted}
		}
		if _, ok := status.FromError(err); ok {
			return &exitError{code: exitUnclassified, err: err}
		}
		return &exitError{code: ExitError, err: err}
	}
}

// report prints err for a person and returns its exit code.
func report(w io.Writer, addr string, err error) int {
	var ee *exitError
	if !errors.As(err, &ee) {
		fmt.Fprintf(w, "ddrctl: %v\nRun 'ddrctl --help' for usage.\n", err)
		return ExitUsage
	}
	if ee.code != exitUnclassified {
		fmt.Fprintf(w, "ddrctl: %v\n", ee.err)
		return ee.code
	}
	s, _ := status.FromError(ee.err)
	switch s.Code() {
	case codes.NotFound:
		msg := s.Message()
		if !strings.HasPrefix(msg, "not found") {
			msg = "not found: " + msg
		}
		fmt.Fprintf(w, "ddrctl: %s\n", msg)
		return ExitNotFound
	case codes.InvalidArgument:
		vs := client.FieldViolations(ee.err)
		if len(vs) == 0 {
			fmt.Fprintf(w, "ddrctl: invalid argument: %s\n", s.Message())
			return ExitInvalid
		}
		fmt.Fprintln(w, "ddrctl: invalid argument:")
		for _, v := range vs {
			fmt.Fprintf(w, "%s: %s\n", v.Field, v.Description)
		}
		return ExitInvalid
	case codes.FailedPrecondition:
		if pv, ok := client.PolicyViolation(ee.err); ok {
			fmt.Fprintf(w, "ddrctl: refused by policy clause %s (%s): %s\n", pv.Clause, pv.Rule, pv.Reason)
		} else {
			fmt.Fprintf(w, "ddrctl: refused: %s\n", s.Message())
		}
		return ExitRefused
	case codes.PermissionDenied:
		fmt.Fprintf(w, "ddrctl: permission denied: %s\n", s.Message())
		return ExitDenied
	case codes.Unauthenticated:
		fmt.Fprintf(w, "ddrctl: not authenticated: %s (give --identity or a client certificate)\n", s.Message())
		return ExitDenied
	case codes.Unavailable:
		fmt.Fprintf(w, "ddrctl: the suite at %s is unavailable: %s\n(start it with `make run`, or point --addr / DDR_ADDR at it)\n", addr, s.Message())
		return ExitUnavailable
	case codes.DeadlineExceeded:
		fmt.Fprintf(w, "ddrctl: no answer from %s in time (--timeout)\n", addr)
		return ExitUnavailable
	case codes.Canceled:
		fmt.Fprintln(w, "ddrctl: interrupted")
		return ExitInterrupted
	}
	fmt.Fprintf(w, "ddrctl: %s: %s\n", s.Code(), s.Message())
	return ExitError
}
