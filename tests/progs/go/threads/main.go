// threads: work on one goroutine while thousands of others are parked, run
// with GODEBUG=schedtrace=1,scheddetail=1 (go_threads.sh sets it): sysmon
// then prints every goroutine, thread and P at each of its ticks.  sysmon
// runs on a thread that runtime.clone made, under runtime.mstart; in Go 1.19
// the child inherits its parent's BP, so those chains go on past mstart into
// the parent thread's stack (runtime.newm1).  The program sends its stderr,
// where the runtime prints, to /dev/null.  The amount of work is fixed, not
// the time, and sysmon ticks at least every 10 ms of it.
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

//go:noinline
func work(n int) uint64 {
	var s uint64
	for i := 0; i < n; i++ {
		s += uint64(i) ^ (s >> 3)
	}
	return s
}

func main() {
	rounds := 400
	if len(os.Args) > 1 {
		n, err := strconv.Atoi(os.Args[1])
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "threads: rounds must be a positive integer, got %q\n", os.Args[1])
			os.Exit(2)
		}
		rounds = n
	}
	if null, err := syscall.Open("/dev/null", syscall.O_WRONLY, 0); err == nil {
		syscall.Dup2(null, 2)
	}
	park := make(chan struct{})
	for g := 0; g < 3000; g++ {
		go func() { <-park }()
	}
	var sum uint64
	for r := 0; r < rounds; r++ {
		sum += work(1000000)
	}
	close(park)
	fmt.Println("ok", sum&1)
}
