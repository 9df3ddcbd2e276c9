// duff: a loop whose frames are zeroed and copied by runtime.duffzero and
// runtime.duffcopy.  cmd/compile writes the caller's frame record below SP
// before calling them (MOVQ BP, -16(SP); LEAQ -16(SP), BP), so a walk inside
// a perf stack copy, which starts at SP, cannot read it there.
package main

import (
	"fmt"
	"os"
	"strconv"
)

type block [120]uint64

//go:noinline
func fill(b *block, seed uint64) {
	for i := range b {
		b[i] = seed + uint64(i)
	}
}

//go:noinline
func round(seed uint64) uint64 {
	var a block // zeroed by runtime.duffzero
	fill(&a, seed)
	b := a // copied by runtime.duffcopy
	return b[seed%120] + a[(seed*7)%120]
}

func main() {
	rounds := 3000000
	if len(os.Args) > 1 {
		n, err := strconv.Atoi(os.Args[1])
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "duff: rounds must be a positive integer, got %q\n", os.Args[1])
			os.Exit(2)
		}
		rounds = n
	}
	var sum uint64
	for r := 0; r < rounds; r++ {
		sum += round(uint64(r))
	}
	fmt.Println(sum & 0xff)
}
