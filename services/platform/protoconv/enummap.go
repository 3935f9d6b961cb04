package protoconv

import "fmt"

// EnumMap is a two-way table between a protobuf enum P and a domain type D
// whose values are not spelled the proto's way (a numbered domain type, or
// words of its own such as "redirect" for REDIRECT_TO_CUSTOMER). Where the
// domain spells the proto's names, [EnumName] and [EnumValue] need no table.
// One list of pairs serves both directions, so the two cannot drift apart
// as two switch statements can.
//
// A value without a row maps to the zero value: unspecified (0) on the
// proto side, the zero D on the domain side; the Lookup methods say
// whether there was a row. The zero EnumMap has no rows.
type EnumMap[P ~int32, D comparable] struct {
	toDomain map[P]D
	toProto  map[D]P
}

// NewEnumMap builds the table from its pairs, each a proto value and the
// domain value it stands for. The pairs must be one to one: a domain value
// given for two proto values panics, as the table is a program constant
// and the mistake shows in the first test that builds it.
func NewEnumMap[P ~int32, D comparable](pairs map[P]D) EnumMap[P, D] {
	m := EnumMap[P, D]{toDomain: make(map[P]D, len(pairs)), toProto: make(map[D]P, len(pairs))}
	for p, d := range pairs {
		if q, dup := m.toProto[d]; dup {
			panic(fmt.Sprintf("protoconv: domain value %v stands for both %d and %d", d, q, p))
		}
		m.toDomain[p], m.toProto[d] = d, p
	}
	return m
}

// Domain is the domain value p stands for; the zero D when p has no row
// (unspecified, or a number this binary does not know).
func (m EnumMap[P, D]) Domain(p P) D { return m.toDomain[p] }

// Proto is the proto value standing for d; 0 (unspecified) when d has no
// row.
func (m EnumMap[P, D]) Proto(d D) P { return m.toProto[d] }

// LookupDomain is [EnumMap.Domain] with whether p has a row.
func (m EnumMap[P, D]) LookupDomain(p P) (D, bool) {
	d, ok := m.toDomain[p]
	return d, ok
}

// LookupProto is [EnumMap.Proto] with whether d has a row.
func (m EnumMap[P, D]) LookupProto(d D) (P, bool) {
	p, ok := m.toProto[d]
	return p, ok
}
