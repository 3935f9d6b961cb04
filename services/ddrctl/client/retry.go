package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Retry is the retry policy of [Client.Submit]: exponential backoff with
// full jitter on UNAVAILABLE and DEADLINE_EXCEEDED, the two answers after
// which the caller cannot know whether the request was stored, and on
// RESOURCE_EXHAUSTED carrying a RetryInfo (the caller's rate limit: the
// call was refused before it ran), waiting at least the delay it names.
// Every other answer is final.
type Retry struct {
	// Attempts bounds the calls, the first included; 1 turns retries off.
	Attempts int
	// Initial is the longest first wait; it doubles per retry up to Max.
	Initial, Max time.Duration
	// AttemptTimeout bounds one call, so a server that accepted the
	// connection and hangs is retried too; 0: only ctx bounds it.
	AttemptTimeout time.Duration
}

// DefaultRetry is 8 attempts, waits from up to 200 ms doubling up to 5 s
// (about 20 s in all at most), and 10 s per attempt.
func DefaultRetry() Retry {
	return Retry{Attempts: 8, Initial: 200 * time.Millisecond, Max: 5 * time.Second, AttemptTimeout: 10 * time.Second}
}

func retryable(err error) bool {
	_, ok := retryAfter(err)
	return ok
}

// retryAfter says whether err may be retried and the least wait the
// server asked for. A RESOURCE_EXHAUSTED without RetryInfo (a message over
// the server's size limit) is final: retrying cannot help.
func retryAfter(err error) (time.Duration, bool) {
	st := status.Convert(err)
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded:
		return 0, true
	case codes.ResourceExhausted:
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				return ri.GetRetryDelay().AsDuration(), true
			}
		}
	}
	return 0, false
}

// do calls f until it succeeds, fails for good, runs out of attempts or
// ctx ends; the last error is returned.
func (r Retry) do(ctx context.Context, sleep func(context.Context, time.Duration) error, f func(context.Context) error) error {
	attempts := max(r.Attempts, 1)
	var err error
	for n := range attempts {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if r.AttemptTimeout > 0 {
			actx, cancel = context.WithTimeout(ctx, r.AttemptTimeout)
		}
		err = f(actx)
		cancel()
		wait, ok := retryAfter(err)
		if err == nil || !ok || ctx.Err() != nil || n == attempts-1 {
			break
		}
		if serr := sleep(ctx, max(wait, r.backoff(n))); serr != nil {
			return errors.Join(err, serr)
		}
	}
	return err
}

// backoff is the wait after the n-th failed attempt (0-based): a random
// duration up to min(Max, Initial*2^n), so that many clients coming back
// at once do not retry in step.
func (r Retry) backoff(n int) time.Duration {
	ceil := r.Initial
	for range n {
		if ceil >= r.Max/2 {
			ceil = r.Max
			break
		}
		ceil *= 2
	}
	ceil = min(ceil, r.Max)
	if ceil <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceil))) + 1 //nolint:gosec // jitter between retries, not a secret
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
