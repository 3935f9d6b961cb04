package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ddrsuite/ddr/services/loadgen/launch"
	"github.com/ddrsuite/ddr/services/platform/natsx"
	"github.com/ddrsuite/ddr/services/platform/pki"
)

// echoDesc is a one-method gRPC service answering with its request: the
// cheapest unary call grpc-go can make, hand-written so the baseline has no
// interceptors, telemetry or generated code of ours.
var echoDesc = grpc.ServiceDesc{
	ServiceName: "ddr.bench.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.BytesValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			return in, nil
		},
	}},
}

// Echo is a running echo server.
type Echo struct {
	Addr  string
	srv   *grpc.Server
	creds credentials.TransportCredentials
}

// StartEcho serves the echo on a loopback port; with sec's PKI over mTLS
// like the suite (a service's certificate, client certificates required),
// so the ratio measures the suite and not the handshake and encryption.
func StartEcho(sec launch.Security) (*Echo, error) {
	var opts []grpc.ServerOption
	client := insecure.NewCredentials()
	if sec.PKIDir != "" {
		d := pki.Dir(sec.PKIDir)
		srvTLS, err := d.Files("service/intake").ServerTLS()
		if err != nil {
			return nil, err
		}
		cliTLS, err := d.Files("group-member/acme-eu").ClientTLS()
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(srvTLS)))
		client = credentials.NewTLS(cliTLS)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer(opts...)
	srv.RegisterService(&echoDesc, struct{}{})
	go func() { _ = srv.Serve(lis) }()
	return &Echo{Addr: lis.Addr().String(), srv: srv, creds: client}, nil
}

// RemoteEcho is the echo another process serves at addr, called with
// sec's client certificate.
func RemoteEcho(addr string, sec launch.Security) (*Echo, error) {
	creds := insecure.NewCredentials()
	if sec.PKIDir != "" {
		cliTLS, err := pki.Dir(sec.PKIDir).Files("group-member/acme-eu").ClientTLS()
		if err != nil {
			return nil, err
		}
		creds = credentials.NewTLS(cliTLS)
	}
	return &Echo{Addr: addr, creds: creds}, nil
}

// Stop stops the server (not one of another process).
func (e *Echo) Stop() {
	if e.srv != nil {
		e.srv.Stop()
	}
}

// EchoOp calls the echo with a payload of size bytes, one connection per
// worker (as the suite's clients have).
func (e *Echo) EchoOp(conc, size int) (Op, func(), error) {
	conns := make([]*grpc.ClientConn, conc)
	for i := range conns {
		c, err := grpc.NewClient(e.Addr, grpc.WithTransportCredentials(e.creds))
		if err != nil {
			return nil, nil, err
		}
		conns[i] = c
	}
	payload := &wrapperspb.BytesValue{Value: make([]byte, size)}
	op := func(ctx context.Context, w int) (map[string]time.Duration, error) {
		out := new(wrapperspb.BytesValue)
		return nil, conns[w].Invoke(ctx, "/ddr.bench.Echo/Echo", payload, out)
	}
	return op, func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}, nil
}

// JetStream is an embedded JetStream server with fsync on every write, the
// suite's durability setting, holding one stream for the publish baseline.
type JetStream struct {
	js   jetstream.JetStream
	stop func()
}

// StartJetStream starts the server in dir and connects to it
// ([ServeJetStream], [ConnectJetStream]).
func StartJetStream(ctx context.Context, dir string, sec launch.Security) (*JetStream, error) {
	url, stop, err := ServeJetStream(dir, sec)
	if err != nil {
		return nil, err
	}
	j, err := ConnectJetStream(ctx, url, sec)
	if err != nil {
		stop()
		return nil, err
	}
	closeConn := j.stop
	j.stop = func() { closeConn(); stop() }
	return j, nil
}

// ServeJetStream starts an embedded JetStream server in dir configured as
// the suite's (file storage, fsync on every write; with sec's PKI, TLS
// with client certificates required) and returns its client URL.
func ServeJetStream(dir string, sec launch.Security) (url string, stop func(), err error) {
	cfg := natsx.EmbeddedConfig{StoreDir: dir, Port: natsx.RandomPort, SyncAlways: true}
	if sec.PKIDir != "" {
		if cfg.TLS, err = pki.Dir(sec.PKIDir).Files("service/ddr").ServerTLS(); err != nil {
			return "", nil, err
		}
	}
	s, err := natsx.StartEmbedded(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return "", nil, err
	}
	return s.ClientURL(), func() { natsx.Shutdown(s) }, nil
}

// ConnectJetStream connects to the baseline server at url (with sec's PKI
// over TLS with a client certificate, as the suite's services connect) and
// creates the stream the publish baseline writes to.
func ConnectJetStream(ctx context.Context, url string, sec launch.Security) (*JetStream, error) {
	var opts []nats.Option
	if sec.PKIDir != "" {
		cliTLS, err := pki.Dir(sec.PKIDir).Files("service/intake").ClientTLS()
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Secure(cliTLS))
	}
	nc, err := natsx.Connect(url, "bench-baseline", append(opts, natsx.WithLogger(slog.New(slog.DiscardHandler)))...)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "BENCH", Subjects: []string{"bench.>"}, Storage: jetstream.FileStorage}); err != nil {
		nc.Close()
		return nil, fmt.Errorf("bench stream: %w", err)
	}
	return &JetStream{js: js, stop: nc.Close}, nil
}

// Stop stops the server.
func (j *JetStream) Stop() { j.stop() }

// PublishOp publishes size bytes and waits for the stream's ack.
func (j *JetStream) PublishOp(size int) Op {
	payload := make([]byte, size)
	return func(ctx context.Context, w int) (map[string]time.Duration, error) {
		_, err := j.js.Publish(ctx, fmt.Sprintf("bench.%d", w), payload)
		return nil, err
	}
}
