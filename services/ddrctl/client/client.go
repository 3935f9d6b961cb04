// Package client is the Go client of the ddr suite for group-member systems:
// it hands a Data Disclosure Request to intake the moment it arrives and
// follows it through review, without the caller writing gRPC by hand. Its
// Submit is safe to retry, and retries by itself when the suite is briefly
// unreachable, because the idempotency key makes a repeated submission
// answer with the first one's request id (clause 3.1: never lost, never
// doubled).
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/grpcstatus"
)

// Client talks to intake as one group member. It is safe for concurrent use.
type Client struct {
	conn   *grpc.ClientConn
	intake intakev1.IntakeServiceClient
	cfg    config
}

type config struct {
	identity string
	tls      *tls.Config
	tlsErr   error
	retry    Retry
	poll     time.Duration
	dial     []grpc.DialOption
	sleep    func(context.Context, time.Duration) error
}

// Option configures a [Client].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithIdentity sends uri (e.g. spiffe://ddr.local/group-member/acme-eu) in
// the development identity header. Servers honour it only in development
// mode; with a client certificate ([WithTLSFiles]) it is not sent, since the
// certificate is the identity.
func WithIdentity(uri string) Option {
	return optionFunc(func(c *config) { c.identity = uri })
}

// WithTLSConfig connects over TLS with cfg; give it a client certificate
// for mTLS.
func WithTLSConfig(cfg *tls.Config) Option {
	return optionFunc(func(c *config) { c.tls = cfg })
}

// WithTLSFiles connects over TLS trusting the PEM CA bundle at caFile (empty:
// the system roots) and, when certFile and keyFile are set, presents that
// client certificate (mTLS).
func WithTLSFiles(caFile, certFile, keyFile string) Option {
	return optionFunc(func(c *config) { c.tls, c.tlsErr = TLSConfig(caFile, certFile, keyFile) })
}

// WithRetry replaces the retry policy of [Client.Submit]; see [Retry].
func WithRetry(r Retry) Option {
	return optionFunc(func(c *config) { c.retry = r })
}

// WithPollInterval sets how often [Client.WaitForStage] asks. If not set,
// it asks every 500 ms.
func WithPollInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.poll = d })
}

// WithDialOptions adds gRPC dial options after the client's own.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return optionFunc(func(c *config) { c.dial = append(c.dial, opts...) })
}

// TLSConfig builds the TLS configuration of [WithTLSFiles].
func TLSConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("client: CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client: CA bundle %s holds no PEM certificate", caFile)
		}
		cfg.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("client: a client certificate needs both the certificate and the key file")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("client: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// New returns a client of the suite at addr (host:port, or any gRPC target),
// or at a comma-separated list of host:port addresses, intake's replicas,
// over which calls are balanced round robin, skipping one that is down.
// Like grpc.NewClient it does no I/O: an unreachable server shows on the
// first call.
func New(addr string, opts ...Option) (*Client, error) {
	cfg := config{retry: DefaultRetry(), poll: 500 * time.Millisecond, sleep: sleep}
	for _, o := range opts {
		o.apply(&cfg)
	}
	if cfg.tlsErr != nil {
		return nil, cfg.tlsErr
	}
	dial, err := DialOptions(cfg.identity, cfg.tls)
	if err != nil {
		return nil, err
	}
	// Reconnect soon after the suite comes back, so retries within
	// [Retry]'s budget find it (gRPC's default backoff grows to 2 minutes).
	dial = append(dial, grpc.WithConnectParams(grpc.ConnectParams{
		Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
		MinConnectTimeout: 5 * time.Second,
	}))
	conn, err := grpcclient.Dial(addr, append(dial, cfg.dial...)...)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, intake: intakev1.NewIntakeServiceClient(conn), cfg: cfg}, nil
}

// DialOptions are the options that identify a caller: mTLS when tlsCfg has a
// client certificate (then identity is not sent), otherwise the development
// header with identity (if any) over TLS (if tlsCfg is set) or plaintext.
func DialOptions(identity string, tlsCfg *tls.Config) ([]grpc.DialOption, error) {
	var opts []grpc.DialOption
	if tlsCfg != nil {
		opts = append(opts, grpcclient.WithTLS(tlsCfg))
	}
	mTLS := tlsCfg != nil && (len(tlsCfg.Certificates) > 0 || tlsCfg.GetClientCertificate != nil)
	if identity != "" && !mTLS {
		id, err := auth.ParseSPIFFE(identity)
		if err != nil {
			return nil, fmt.Errorf("client: identity: %w", err)
		}
		opts = append(opts, grpcclient.WithDevIdentity(id))
	}
	return opts, nil
}

// Conn is the underlying connection, for the suite's other services.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Submit hands req to intake under idempotencyKey, retrying with backoff
// while the suite is unavailable (see [Retry]). Every attempt carries the
// same key, so however many attempts reach the server, one request exists;
// a response with Replayed set answers an earlier attempt. The key must stay
// the same for the same demand across restarts of the caller too: derive it
// from the demand's own reference (e.g. the letter's number), not a random
// value per call.
func (c *Client) Submit(ctx context.Context, idempotencyKey string, req *intakev1.DataDisclosureRequest) (*intakev1.SubmitResponse, error) {
	in := &intakev1.SubmitRequest{IdempotencyKey: idempotencyKey, Request: req}
	var res *intakev1.SubmitResponse
	err := c.cfg.retry.do(ctx, c.cfg.sleep, func(ctx context.Context) error {
		var err error
		res, err = c.intake.Submit(ctx, in)
		return err
	})
	return res, err
}

// Get returns one of the caller's requests with its stage timeline.
func (c *Client) Get(ctx context.Context, requestID string) (*intakev1.Request, error) {
	res, err := c.intake.Get(ctx, &intakev1.GetRequest{RequestId: requestID})
	if err != nil {
		return nil, err
	}
	return res.GetRequest(), nil
}

// List returns every request of the caller, newest first, following the
// pages.
func (c *Client) List(ctx context.Context) ([]*intakev1.Request, error) {
	var out []*intakev1.Request
	token := ""
	for {
		res, err := c.intake.List(ctx, &intakev1.ListRequest{PageSize: 500, PageToken: token})
		if err != nil {
			return nil, err
		}
		out = append(out, res.GetRequests()...)
		if token = res.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}

// ErrStageUnreachable is returned by [Client.WaitForStage] when the request
// ended in a stage other than those waited for.
var ErrStageUnreachable = errors.New("client: the request ended in another stage")

// Terminal reports whether a request in stage s can move no further.
func Terminal(s intakev1.Stage) bool {
	return s == intakev1.Stage_STAGE_CLOSED || s == intakev1.Stage_STAGE_WITHDRAWN
}

// WaitForStage polls the request until it is in one of stages and returns
// it. It stops with [ErrStageUnreachable] when the request is closed or
// withdrawn in another stage, and with ctx's error when ctx ends; unavailable
// answers in between are waited out like in Submit.
func (c *Client) WaitForStage(ctx context.Context, requestID string, stages ...intakev1.Stage) (*intakev1.Request, error) {
	if len(stages) == 0 {
		return nil, errors.New("client: WaitForStage needs at least one stage")
	}
	for {
		r, err := c.Get(ctx, requestID)
		switch {
		case err == nil && slices.Contains(stages, r.GetStage()):
			return r, nil
		case err == nil && Terminal(r.GetStage()):
			return r, fmt.Errorf("%w: %s", ErrStageUnreachable, r.GetStage())
		case err != nil && !retryable(err):
			return nil, err
		}
		if err := c.cfg.sleep(ctx, c.cfg.poll); err != nil {
			return nil, err
		}
	}
}

// PolicyViolation returns the clause and reason of a refusal by the policy
// (a FAILED_PRECONDITION naming a clause); ok is false for any other error.
func PolicyViolation(err error) (pv *ddrerr.PolicyViolation, ok bool) {
	return grpcstatus.PolicyViolationFrom(err)
}

// FieldViolations returns the problems of an INVALID_ARGUMENT answer, one
// per field, or nil.
func FieldViolations(err error) []ddrerr.FieldViolation {
	return grpcstatus.FieldViolationsFrom(err)
}
