// pingpong: two goroutines bounce a value over unbuffered channels, with a
// select on a timer and a ticker in the loop, so that goroutines park and
// wake through gopark/park_m (runtime.mcall) and the timer code reads the
// clock through the vDSO (nanotime1, time.now) on g0.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

//go:noinline
func work(n int) uint64 {
	var s uint64
	for i := 0; i < n; i++ {
		s += uint64(i) ^ (s >> 3)
	}
	return s
}

// player answers every ping until quit is closed.
func player(in <-chan uint64, out chan<- uint64, quit <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case v := <-in:
			timer.Reset(time.Millisecond)
			out <- v + work(3000)
		case <-timer.C:
			timer.Reset(time.Hour)
		case <-quit:
			return
		}
	}
}

func main() {
	rounds := 100000
	if len(os.Args) > 1 {
		n, err := strconv.Atoi(os.Args[1])
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "pingpong: rounds must be a positive integer, got %q\n", os.Args[1])
			os.Exit(2)
		}
		rounds = n
	}
	ping, pong := make(chan uint64), make(chan uint64)
	quit := make(chan struct{})
	ticker := time.NewTicker(100 * time.Microsecond)
	defer ticker.Stop()
	go player(ping, pong, quit)
	var v uint64
	for r := 0; r < rounds; r++ {
		ping <- v
		select {
		case v = <-pong:
		case <-ticker.C:
			v = <-pong
		}
	}
	close(quit)
	fmt.Println(v & 0xff)
}
