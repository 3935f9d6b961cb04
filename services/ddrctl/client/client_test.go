package client_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/ddrctl/client"
)

const member = "spiffe://ddr.local/group-member/acme-eu"

func demand() *intakev1.DataDisclosureRequest {
	return &intakev1.DataDisclosureRequest{
		ReceivedAt: timestamppb.New(time.Now().Add(-time.Hour)),
		Channel:    intakev1.Channel_CHANNEL_PHONE,
		Authority:  &intakev1.Authority{Name: "Polizei Berlin", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: "DE"},
		Targets:    []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: "acct-1"}},
	}
}

// countSubmits counts Submit attempts as the client makes them.
func countSubmits(n *atomic.Int32) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if method == intakev1.IntakeService_Submit_FullMethodName {
			n.Add(1)
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// The worst case for a retry: the suite stored the request, then went away
// before the answer reached the caller, who retries into a suite that is
// down and then back (a new process on the same data and address). The
// idempotency key makes the retry find the first request: one request, the
// same id, answered as a replay.
func TestSubmitRetriedAcrossARestartCreatesOneRequest(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	first, err := startSuite(dir, addr)
	if err != nil {
		t.Fatal(err)
	}

	var (
		attempts  atomic.Int32
		storedID  = make(chan string, 1)
		firstID   = make(chan string, 1)
		restarted = make(chan error, 1)
		down      = make(chan struct{})
		second    *proc
	)
	// The first attempt reaches the suite; its answer is "lost" on the way
	// back, as when the connection drops after the server answered. The
	// retries wait until the suite is down: a retry that still found the
	// first suite up would be answered as a replay and end the test before
	// the restart it is about.
	loseFirstAnswer := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if method == intakev1.IntakeService_Submit_FullMethodName && attempts.Load() > 1 {
			select {
			case <-down:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := invoker(ctx, method, req, reply, cc, opts...)
		if method != intakev1.IntakeService_Submit_FullMethodName || attempts.Load() != 1 {
			return err
		}
		if err != nil {
			return err
		}
		storedID <- reply.(*intakev1.SubmitResponse).GetRequestId()
		return status.Error(codes.Unavailable, "connection lost before the answer arrived")
	}
	c, err := client.New(addr,
		client.WithIdentity(member),
		client.WithRetry(client.Retry{Attempts: 200, Initial: 20 * time.Millisecond, Max: 300 * time.Millisecond, AttemptTimeout: 5 * time.Second}),
		client.WithDialOptions(grpc.WithChainUnaryInterceptor(countSubmits(&attempts), loseFirstAnswer)),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })

	// Once the first answer is lost, stop the suite, let the client retry
	// into nothing, then start the suite again on the same data.
	go func() {
		firstID <- <-storedID
		if err := first.stop(); err != nil {
			restarted <- err
			return
		}
		close(down)
		for attempts.Load() < 3 {
			time.Sleep(10 * time.Millisecond)
		}
		p, err := startSuite(dir, addr)
		second = p
		restarted <- err
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := c.Submit(ctx, "letter-2026-0099", demand())
	if rerr := <-restarted; rerr != nil {
		t.Fatalf("restart: %v", rerr)
	}
	t.Cleanup(func() { _ = second.stop() })
	if err != nil {
		t.Fatalf("Submit: %v (after %d attempts)", err, attempts.Load())
	}
	if n := attempts.Load(); n < 3 {
		t.Fatalf("Submit made %d attempts; the test wants retries while the suite was down", n)
	}
	if !res.GetReplayed() {
		t.Errorf("the retry was not answered as a replay: %v", res)
	}

	// The new process rebuilt its views from the stream: the request is
	// there, once.
	got, err := c.Get(ctx, res.GetRequestId())
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.GetRequestId() != <-firstID {
		t.Errorf("the retry answered with request %s, not the one the first attempt stored", got.GetRequestId())
	}
	all, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].GetRequestId() != res.GetRequestId() {
		var ids []string
		for _, r := range all {
			ids = append(ids, r.GetRequestId())
		}
		t.Errorf("the member has requests %v, want only %s", ids, res.GetRequestId())
	}
}

// An answer that is not about availability is final: retrying an invalid
// request cannot make it valid.
func TestSubmitDoesNotRetryAnInvalidRequest(t *testing.T) {
	var attempts atomic.Int32
	c, err := client.New(suiteAddr, client.WithIdentity(member), client.WithDialOptions(grpc.WithChainUnaryInterceptor(countSubmits(&attempts))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	bad := demand()
	bad.Authority.Country = "Germany"

	_, err = c.Submit(t.Context(), "letter-bad-country", bad)
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("Submit = %v, want InvalidArgument", err)
	}
	if n := attempts.Load(); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
	vs := client.FieldViolations(err)
	if len(vs) != 1 || vs[0].Field != "request.authority.country" {
		t.Errorf("field violations %v, want one on request.authority.country", vs)
	}
}

// When the suite stays away, Submit gives up after its attempts with the
// last UNAVAILABLE, rather than hanging.
func TestSubmitGivesUpAfterItsAttempts(t *testing.T) {
	var attempts atomic.Int32
	c, err := client.New(freeAddr(t), client.WithIdentity(member),
		client.WithRetry(client.Retry{Attempts: 3, Initial: time.Millisecond, Max: 5 * time.Millisecond}),
		client.WithDialOptions(grpc.WithChainUnaryInterceptor(countSubmits(&attempts))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })

	_, err = c.Submit(t.Context(), "letter-nobody-home", demand())
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("Submit = %v, want Unavailable", err)
	}
	if n := attempts.Load(); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
}

// refuseFirstSubmit answers the first Submit with st instead of calling.
func refuseFirstSubmit(n *atomic.Int32, st *status.Status) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if method == intakev1.IntakeService_Submit_FullMethodName && n.Add(1) == 1 {
			return st.Err()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// The rate limit's refusal names a delay: Submit waits it out and tries
// again. A RESOURCE_EXHAUSTED without one (a message too large) is final.
func TestSubmitRetriesARateLimitRefusalAfterItsDelay(t *testing.T) {
	limited, err := status.New(codes.ResourceExhausted, "rate limit exceeded").
		WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		st       *status.Status
		want     codes.Code
		attempts int32
	}{
		{"rate limited", limited, codes.OK, 2},
		{"too large", status.New(codes.ResourceExhausted, "message larger than max"), codes.ResourceExhausted, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var attempts atomic.Int32
			c, err := client.New(suiteAddr, client.WithIdentity(member),
				client.WithDialOptions(grpc.WithChainUnaryInterceptor(refuseFirstSubmit(&attempts, tt.st))))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			_, err = c.Submit(t.Context(), "letter-limited-"+strings.ReplaceAll(tt.name, " ", "-"), demand())
			if status.Code(err) != tt.want {
				t.Errorf("Submit = %v, want %v", err, tt.want)
			}
			if n := attempts.Load(); n != tt.attempts {
				t.Errorf("%d attempts, want %d", n, tt.attempts)
			}
		})
	}
}
