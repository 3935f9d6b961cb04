package keys

import (
	"fmt"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/natsx/natstest"
)

// BenchmarkOpen opens small sealed values (a target's identifier) of 50
// requests in turn, as a List page does, with every key in the cache:
// "kept" holds the keys unwrapped as the keyring does; "wrapped" holds
// them wrapped only (no unwrapped keys, as before issue 19), so that each
// open unwraps its key and builds its cipher again.
//
//	go test -run '^$' -bench Open -benchmem ./keys/
func BenchmarkOpen(b *testing.B) {
	for _, mode := range []struct {
		name     string
		openSize int
	}{{"kept", DefaultOpenKeys}, {"wrapped", 0}} {
		b.Run(mode.name, func(b *testing.B) {
			env := natstest.Start(b)
			ctx := b.Context()
			kr, _, _ := streamKeyring(b, env)
			kr.cache.openSize = mode.openSize
			waitCacheRunning(b, kr)
			const n = 50
			ids := make([]string, n)
			sealed := make([][]byte, n)
			var err error
			for i := range n {
				ids[i] = fmt.Sprintf("req-%d", i)
				if sealed[i], err = kr.Seal(ctx, ids[i], TargetLabel("t1"), []byte("acct-0123456789")); err != nil {
					b.Fatal(err)
				}
				if _, err := kr.Open(ctx, ids[i], TargetLabel("t1"), sealed[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, err := kr.Open(ctx, ids[i%n], TargetLabel("t1"), sealed[i%n]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.StopTimer()
			if st := kr.CacheStats(); st.Misses > 2*n {
				b.Fatalf("the keys were read from the bucket: %+v", st)
			}
		})
	}
}
