package eventstore

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// storageInfoTimeout bounds the stream-info round trips of one scrape.
const storageInfoTimeout = 2 * time.Second

// ObserveStorage reports the size of the record's streams (DDR and
// DDR_DLQ) as ddr.stream.bytes and ddr.stream.messages at each scrape, on
// the current global MeterProvider, labelled by stream. The record is
// never purged (events are forever), so its storage only grows: these are
// what the storage alerts of deploy/observability/alerts.yml read. Every
// process of a split deployment reports the same stream-wide values. A
// stream that cannot be read at a scrape reports no sample rather than a
// false one. A process calls it once; unregister when it stops.
func ObserveStorage(js jetstream.JetStream) (unregister func(), err error) {
	m := otel.GetMeterProvider().Meter(TracerName)
	bytes, err := m.Int64ObservableGauge("ddr.stream.bytes",
		metric.WithDescription("Bytes stored by a stream of the record (DDR, DDR_DLQ); the record is never purged, so this only grows"))
	if err != nil {
		return nil, err
	}
	msgs, err := m.Int64ObservableGauge("ddr.stream.messages",
		metric.WithDescription("Messages stored by a stream of the record (DDR, DDR_DLQ)"))
	if err != nil {
		return nil, err
	}
	reg, err := m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, storageInfoTimeout)
		defer cancel()
		for _, name := range []string{StreamName, DLQStreamName} {
			st, err := js.Stream(ctx, name)
			if err != nil {
				continue
			}
			state := st.CachedInfo().State
			attrs := metric.WithAttributes(attribute.String("stream", name))
			o.ObserveInt64(bytes, int64(min(state.Bytes, 1<<62)), attrs)
			o.ObserveInt64(msgs, int64(min(state.Msgs, 1<<62)), attrs)
		}
		return nil
	}, bytes, msgs)
	if err != nil {
		return nil, err
	}
	return func() { _ = reg.Unregister() }, nil
}
