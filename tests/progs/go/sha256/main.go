// sha256: hashes a buffer over and over with crypto/sha256, whose amd64 block
// function uses BP as a table register (sha256block_amd64.s: "#define TBL BP"
// in its AVX2 path), so a frame-pointer chain read there starts from data.
package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strconv"
)

func main() {
	rounds := 6000
	if len(os.Args) > 1 {
		n, err := strconv.Atoi(os.Args[1])
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "sha256: rounds must be a positive integer, got %q\n", os.Args[1])
			os.Exit(2)
		}
		rounds = n
	}
	buf := make([]byte, 64<<10)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	var sum [32]byte
	for r := 0; r < rounds; r++ {
		sum = sha256.Sum256(append(buf[:len(buf)-32], sum[:]...))
	}
	fmt.Printf("%x\n", sum[:4])
}
