package domain

import "time"

// Limits bound what a request may carry. A zero field takes its default, so
// Limits{} is the default set.
//
// The defaults mirror the caps in proto/ddr/intake/v1 and keep the largest
// valid request, which travels as one event, well under NATS's default
// 1 MiB message size: at most 1,000 targets of at most 512 bytes each, the
// five free-text fields at 10,000 characters (at most 40 KiB each in
// UTF-8), 50 attachments. The suite's maximal-request test measures it.
type Limits struct {
	// ClockSkew is how far received_at may lie ahead of the server's clock,
	// because the group member's clock is not ours. Default 5 minutes.
	ClockSkew time.Duration
	// MaxTargets bounds the number of listed targets. Default 1,000 (the
	// proto's max_items): enough for a long list of identifiers. A demand
	// for more (a tower dump, a keyword warrant's hit list), or for
	// "everyone who…", arrives as a scope_description, with any list as an
	// attachment.
	MaxTargets int
	// MaxTargetValueBytes bounds one target value's UTF-8 size. Default 512
	// (the proto's max_bytes), on top of MaxValueLen characters.
	MaxTargetValueBytes int
	// MaxTargetBytes bounds the summed UTF-8 size of all target values.
	// Default 512,000: MaxTargets values of MaxTargetValueBytes, so that
	// any request the protos accept passes; lower it to be stricter.
	MaxTargetBytes int
	// MaxAttachments bounds the attachments of a request or an amendment.
	// Default 50.
	MaxAttachments int
	// MaxTextLen bounds free text (scope description, stated purpose, harm
	// described, notes, amendment information), in characters. Default 10,000.
	MaxTextLen int
	// MaxValueLen bounds short values (names, references, target values,
	// media types, the idempotency key), in characters. Default 512.
	MaxValueLen int
	// MaxURILen bounds an attachment URI, in characters. Default 2,048.
	MaxURILen int
	// MaxAmendments bounds the amendments one request may receive. Default
	// 100: each is an event loaded with the request on every command, so an
	// unbounded number would let one caller make a request ever costlier to
	// handle. Past the limit, further information goes in a new request.
	MaxAmendments int
	// MaxViolations bounds how many field violations one error lists; the
	// rest are counted in a final violation. It keeps a gRPC error's details
	// (sent in a trailer, which clients cap at 16 KiB by default) small
	// even for a 1,000-target request that is wrong everywhere. Default 50.
	MaxViolations int
}

// Default limits; see [Limits].
const (
	DefaultClockSkew           = 5 * time.Minute
	DefaultMaxTargets          = 1_000
	DefaultMaxTargetValueBytes = 512
	DefaultMaxTargetBytes      = DefaultMaxTargets * DefaultMaxTargetValueBytes
	DefaultMaxAttachments      = 50
	DefaultMaxTextLen          = 10_000
	DefaultMaxValueLen         = 512
	DefaultMaxURILen           = 2048
	DefaultMaxViolations       = 50
	DefaultMaxAmendments       = 100
)

// DefaultLimits returns the default limits with every field set.
func DefaultLimits() Limits {
	return Limits{}.withDefaults()
}

func (l Limits) withDefaults() Limits {
	if l.ClockSkew <= 0 {
		l.ClockSkew = DefaultClockSkew
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxTargets, DefaultMaxTargets)
	def(&l.MaxTargetValueBytes, DefaultMaxTargetValueBytes)
	def(&l.MaxTargetBytes, DefaultMaxTargetBytes)
	def(&l.MaxAttachments, DefaultMaxAttachments)
	def(&l.MaxTextLen, DefaultMaxTextLen)
	def(&l.MaxValueLen, DefaultMaxValueLen)
	def(&l.MaxURILen, DefaultMaxURILen)
	def(&l.MaxViolations, DefaultMaxViolations)
	def(&l.MaxAmendments, DefaultMaxAmendments)
	return l
}
