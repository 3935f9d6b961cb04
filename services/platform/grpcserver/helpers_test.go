package grpcserver_test

import (
	"context"
	"log/slog"
	"net"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
	"github.com/ddrsuite/ddr/services/platform/testkit"
)

// probe is a hand-written service (our protos are not generated yet): the
// request's value names what the handler does, and a handler may record the
// trace id it ran under.
type probe struct {
	do func(ctx context.Context, req string) (string, error)
}

const (
	probeService = "ddr.test.v1.ProbeService"
	doMethod     = "/" + probeService + "/Do"
	watchMethod  = "/" + probeService + "/Watch"
)

var probeDesc = grpc.ServiceDesc{
	ServiceName: probeService,
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Do",
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			req := &wrapperspb.StringValue{}
			if err := dec(req); err != nil {
				return nil, err
			}
			call := func(ctx context.Context, req any) (any, error) {
				out, err := srv.(*probe).do(ctx, req.(*wrapperspb.StringValue).GetValue())
				if err != nil {
					return nil, err
				}
				return wrapperspb.String(out), nil
			}
			return icpt(ctx, req, &grpc.UnaryServerInfo{Server: srv, FullMethod: doMethod}, call)
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Watch",
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			req := &wrapperspb.StringValue{}
			if err := stream.RecvMsg(req); err != nil {
				return err
			}
			out, err := srv.(*probe).do(stream.Context(), req.GetValue())
			if err != nil {
				return err
			}
			return stream.SendMsg(wrapperspb.String(out))
		},
	}},
}

type fixture struct {
	srv  *grpcserver.Server
	addr string
	logs *testkit.LogBuffer
}

// start serves p on 127.0.0.1 with a real TracerProvider, so trace ids exist.
func start(t *testing.T, cfg grpcserver.Config, p *probe) fixture {
	t.Helper()
	logs := &testkit.LogBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	srv, err := grpcserver.New(cfg, grpcserver.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	srv.GRPC().RegisterService(&probeDesc, p)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.GRPC().Stop()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return fixture{srv: srv, addr: lis.Addr().String(), logs: logs}
}

func dial(t *testing.T, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	conn, err := grpcclient.Dial(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func callDo(ctx context.Context, conn *grpc.ClientConn, req string) (string, error) {
	out := &wrapperspb.StringValue{}
	err := conn.Invoke(ctx, doMethod, wrapperspb.String(req), out)
	return out.GetValue(), err
}

func callWatch(ctx context.Context, conn *grpc.ClientConn, req string) (string, error) {
	stream, err := conn.NewStream(ctx, &probeDesc.Streams[0], watchMethod)
	if err != nil {
		return "", err
	}
	if err := stream.SendMsg(wrapperspb.String(req)); err != nil {
		return "", err
	}
	if err := stream.CloseSend(); err != nil {
		return "", err
	}
	out := &wrapperspb.StringValue{}
	if err := stream.RecvMsg(out); err != nil {
		return "", err
	}
	return out.GetValue(), nil
}

func traceIDOf(ctx context.Context) string {
	return trace.SpanContextFromContext(ctx).TraceID().String()
}
