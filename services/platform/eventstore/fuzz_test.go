package eventstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ddrsuite/ddr/services/platform/eventstore"
)

// encodeHeader writes h as "key: value" lines, the fuzzer's view of it.
func encodeHeader(h nats.Header) string {
	var b strings.Builder
	for k, vs := range h {
		for _, v := range vs {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	return b.String()
}

func decodeHeader(s string) nats.Header {
	h := nats.Header{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			h[k] = append(h[k], v)
		}
	}
	return h
}

// FuzzFromMsg feeds arbitrary stored messages to the decoder every reader of
// the record uses: it must never panic, must fail only with a DecodeError
// of a known kind, and what it accepts must survive a re-encoding.
func FuzzFromMsg(f *testing.F) {
	for _, p := range []proto.Message{wrapperspb.String("x"), structpb.NewStringValue("y")} {
		m, err := eventstore.ToMsg(context.Background(), eventstore.Event{RequestID: "req-1", Service: "intake", Name: "received", Actor: "spiffe://d/service/intake", Payload: p})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.Subject, encodeHeader(m.Header), m.Data, uint64(7))
	}
	f.Add("ddr.req.a.b.c", "ce-id: 1\nce-source: ddr/b\nce-specversion: 1.0\nce-time: 2026-01-01T00:00:00Z\nce-type: google.protobuf.StringValue\n", []byte{0x0a, 0xff}, uint64(1))
	f.Add("ddr.req..b.c", "", []byte(nil), uint64(0))
	f.Add("ddr.req.a.b.c", "ce-id: 1\nce-specversion: 1.0\nce-time: x\nce-type: no.Such\n", []byte("\x00"), ^uint64(0))
	f.Fuzz(func(t *testing.T, subject, header string, data []byte, seq uint64) {
		ev, err := eventstore.FromMsg(subject, decodeHeader(header), data, seq)
		if err != nil {
			var de *eventstore.DecodeError
			if !errors.As(err, &de) || (!errors.Is(err, eventstore.ErrMalformed) && !errors.Is(err, eventstore.ErrUnknownType) && !errors.Is(err, eventstore.ErrForged)) {
				t.Fatalf("error %T %v, want a DecodeError of a known kind", err, err)
			}
			return
		}
		if ev.Subject != subject || ev.Sequence != seq || ev.Payload == nil {
			t.Fatalf("decoded %+v from subject %q seq %d", ev, subject, seq)
		}
		m, err := eventstore.ToMsg(context.Background(), ev)
		if err != nil {
			// Headers the decoder tolerates but the encoder refuses (control
			// characters in the actor or source) are not ours to write.
			if errors.Is(err, eventstore.ErrInvalidEvent) {
				return
			}
			t.Fatalf("re-encoding a decoded event: %v", err)
		}
		again, err := eventstore.FromMsg(m.Subject, m.Header, m.Data, seq)
		if err != nil {
			t.Fatalf("decoding a re-encoded event: %v", err)
		}
		if !proto.Equal(again.Payload, ev.Payload) || again.ID != ev.ID || !again.Time.Equal(ev.Time) || again.Actor != ev.Actor {
			t.Fatalf("round trip changed the event: %+v -> %+v", ev, again)
		}
	})
}
