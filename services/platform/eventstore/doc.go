// Package eventstore is the system of record: every event of every
// government data request, kept in one append-only JetStream stream.
//
// A request's state is the fold of its events. Commands go through
// [Store.Update]: load the request's history, decide, append with an
// optimistic-concurrency check over the whole request subject, retry on
// conflict. That gives one writer's view per decision without locks, and a
// conflict can never lose or double a write.
//
// Events travel as CloudEvents-style NATS headers plus a protobuf payload;
// see [ToMsg] and [FromMsg].
package eventstore
