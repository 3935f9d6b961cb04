package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// UnaryServerRequestID puts the request_id field of a call's request
// message on the call's server span as ddr.request_id; for a call that
// creates the request (Submit), the response's. So every call on a request
// is found by the request id, without reading any other field. The
// handler's context carries the id too, for its log lines.
func UnaryServerRequestID() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		span := trace.SpanFromContext(ctx)
		id := RequestIDOf(req)
		if id != "" {
			span.SetAttributes(attribute.String(AttrRequestID, id))
			ctx = ContextWithRequestID(ctx, id)
		}
		resp, err := handler(ctx, req)
		if id == "" && err == nil {
			if id = RequestIDOf(resp); id != "" {
				span.SetAttributes(attribute.String(AttrRequestID, id))
			}
		}
		return resp, err
	}
}

// RequestIDOf returns the top-level string field request_id of a protobuf
// message, or "".
func RequestIDOf(m any) string {
	pm, ok := m.(proto.Message)
	if !ok || pm == nil {
		return ""
	}
	r := pm.ProtoReflect()
	if !r.IsValid() {
		return ""
	}
	fd := r.Descriptor().Fields().ByName("request_id")
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return ""
	}
	return r.Get(fd).String()
}
