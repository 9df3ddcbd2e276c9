// yield: goroutines that compute and call runtime.Gosched in a loop, so that a
// profiler samples runtime.mcall's g0 side (gosched_m, schedule) often.  The
// amount of work is fixed, not the time: a loaded machine takes longer but
// gives as many samples.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
)

var sinks [64]uint64

//go:noinline
func work(n int) uint64 {
	var s uint64
	for i := 0; i < n; i++ {
		s += uint64(i) ^ (s >> 3)
	}
	return s
}

//go:noinline
func spinYield(id, rounds int) {
	for r := 0; r < rounds; r++ {
		sinks[id*8] += work(500)
		runtime.Gosched()
	}
}

func main() {
	rounds := 300000
	if len(os.Args) > 1 {
		n, err := strconv.Atoi(os.Args[1])
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "yield: rounds must be a positive integer, got %q\n", os.Args[1])
			os.Exit(2)
		}
		rounds = n
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(id int) { defer wg.Done(); spinYield(id, rounds) }(i)
	}
	wg.Wait()
}
