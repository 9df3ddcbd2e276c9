// recurse: goroutines that recurse to about 56 KiB (under the 64 KiB of a
// stack that perf can copy), so that each new stack grows three times:
// runtime.morestack, then newstack and copystack on g0.  Go 1.19's morestack
// keeps BP when it switches to g0, so those chains run on into the goroutine
// stack being copied: a real defect of that runtime.
package main

import (
	"fmt"
	"os"
	"strconv"
)

//go:noinline
func deep(n int) uint64 {
	// Small enough to be zeroed inline: runtime.duffzero writes its frame
	// record below SP, outside perf's stack copy (see README).
	var frame [8]uint64
	frame[n%8] = uint64(n)
	if n == 0 {
		return frame[0]
	}
	return deep(n-1) + frame[(n*7)%8]
}

func main() {
	rounds := 30000
	if len(os.Args) > 1 {
		n, err := strconv.Atoi(os.Args[1])
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "recurse: rounds must be a positive integer, got %q\n", os.Args[1])
			os.Exit(2)
		}
		rounds = n
	}
	var sum uint64
	done := make(chan uint64)
	for r := 0; r < rounds; r++ {
		go func(r int) { done <- deep(500 + r%8) }(r)
		sum += <-done
	}
	fmt.Println(sum & 0xff)
}
