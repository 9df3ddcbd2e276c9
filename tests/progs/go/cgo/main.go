// cgo: Go calls C (cwork, in cwork.c), which computes and calls back into Go through an
// //export function, which computes too.  Built twice by the tests: with
// Go's default CGO_CFLAGS (-O2 -g: gcc omits frame pointers) and with
// -fno-omit-frame-pointer added.
package main

/*
void cwork(int n);
*/
import "C"

import (
	"fmt"
	"os"
	"strconv"
)

var sink uint64

//go:noinline
func work(n int) uint64 {
	var s uint64
	for i := 0; i < n; i++ {
		s += uint64(i) ^ (s >> 3)
	}
	return s
}

//export goCallback
func goCallback(n C.int) {
	sink += work(int(n))
}

func main() {
	rounds := 20000
	if len(os.Args) > 1 {
		n, err := strconv.Atoi(os.Args[1])
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "cgo: rounds must be a positive integer, got %q\n", os.Args[1])
			os.Exit(2)
		}
		rounds = n
	}
	for r := 0; r < rounds; r++ {
		C.cwork(20000)
	}
}
