// Go peers of bench/runtime.c: the same operations on the Go runtime, so that
// every fprt figure is printed next to Go's.  Run with GOMAXPROCS=1
// (`go test -bench . -cpu 1`), as the fprt side runs with FPRT_MAXPROCS=1.
package peers

import (
	"runtime"
	"sync"
	"testing"
)

// gosched: two goroutines yielding to each other on one P.
func BenchmarkGosched(b *testing.B) {
	done := make(chan bool)
	go func() {
		for i := 0; i < b.N; i++ {
			runtime.Gosched()
		}
		done <- true
	}()
	for i := 0; i < b.N; i++ {
		runtime.Gosched()
	}
	<-done
}

// chan-pingpong: one unbuffered round trip per op.
func BenchmarkChanPingPong(b *testing.B) {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	for i := 0; i < b.N; i++ {
		ping <- i
		<-pong
	}
	close(ping)
}

// spawn: create a goroutine, let it run, join it.
func BenchmarkSpawn(b *testing.B) {
	var wg sync.WaitGroup
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		go func() { wg.Done() }()
		wg.Wait()
	}
}

// systemstack: Go has no user-visible systemstack; the closest call that
// switches to g0 and back is a cgo call (asmcgocall), which also does
// entersyscall/exitsyscall.
func BenchmarkSystemstack(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Noop()
	}
}

//go:noinline
func grow(n int) byte {
	var buf [512]byte
	buf[n%512] = byte(n)
	if n == 0 {
		return buf[0]
	}
	return grow(n-1) + buf[n%512]
}

// stack-grow-64k: a new goroutine grows its stack from the initial size to
// 64 KiB (by copying, as fprt does), then exits.
func BenchmarkStackGrow64k(b *testing.B) {
	var wg sync.WaitGroup
	for i := 0; i < b.N; i++ {
		wg.Add(1)
		go func() { grow(110); wg.Done() }() // 110 frames of ~560 bytes: > 32 KiB, <= 64 KiB
		wg.Wait()
	}
}
